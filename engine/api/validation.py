"""Request validation through ``rules.models`` and the lookups every handler shares.

boto3 checks only required members and JSON types (reference §2.5); enums, ranges, dates and
cross-member rules are the server's job. The models of ``rules.models`` hold those rules; a
failure is a ``BadRequestException`` naming each field path (``rules.errors.describe``).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from engine.api.backend import ApiBackend, ControlKind
from engine.api.errors import BadRequest, NotFound
from rules.errors import describe
from topics.wire import ControlRecord

__all__ = ["parse_model", "require_app", "require_record", "response_wire", "version_number"]

M = TypeVar("M", bound=BaseModel)


def parse_model(model: type[M], data: Any, prefix: str = "") -> M:
    """``model.model_validate(data)``; any problem is a :class:`BadRequest` naming the fields."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        detail = describe(exc)
        raise BadRequest(f"{prefix}{detail}" if prefix else detail) from None


def response_wire(model: type[M], data: dict[str, Any]) -> dict[str, Any]:
    """A response built by the API, checked against its ``rules.models`` shape, as wire JSON.

    The shapes are ours, so a failure here means a request slipped through validation; it is
    still the client's data that is wrong, hence 400 rather than 500.
    """
    return parse_model(model, data).model_dump(mode="json", by_alias=True, exclude_none=True)


def require_record(backend: ApiBackend, kind: ControlKind, key: str, what: str) -> ControlRecord:
    record = backend.control_record(kind, key)
    if record is None:
        raise NotFound(f"{what} not found.")
    return record


def require_app(backend: ApiBackend, app_id: str) -> ControlRecord:
    """Every app-scoped operation answers 404 for an unknown application (reference §5.1)."""
    return require_record(backend, "app", app_id, f"Application {app_id!r}")


def version_number(label: str) -> int:
    """A ``{version}`` path label or ``version`` query value: a positive integer."""
    if not label.isdigit() or int(label) < 1:
        raise BadRequest(f"Version {label!r} is not a positive integer.")
    return int(label)
