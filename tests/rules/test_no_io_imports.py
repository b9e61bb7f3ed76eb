"""rules/ is the pure core: it must never import Kafka, Faust, AWS or HTTP clients
(PRODUCT.md layers; STYLE.md §1)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

FORBIDDEN = {"faust", "aiokafka", "boto3", "botocore", "aiohttp"}
RULES = Path(__file__).resolve().parents[2] / "rules"


def imported_roots(source: str) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            if node.args and isinstance(node.args[0], ast.Constant):
                roots.add(str(node.args[0].value).split(".")[0])
    return roots


SOURCES = sorted(RULES.rglob("*.py"))


def test_rules_has_sources() -> None:
    assert len(SOURCES) >= 5


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(RULES)))
def test_no_forbidden_imports(path: Path) -> None:
    bad = imported_roots(path.read_text()) & FORBIDDEN
    assert not bad, f"{path} imports {sorted(bad)}"


def test_scanner_catches_forbidden_imports() -> None:
    source = "import boto3\nfrom aiokafka.errors import X\nimport faust.app as f\n"
    assert imported_roots(source) & FORBIDDEN == {"boto3", "aiokafka", "faust"}
