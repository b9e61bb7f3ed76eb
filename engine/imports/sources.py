"""Where import files come from: a local file (the CLI) or S3 (CreateImportJob's ``S3Url``).

Either way the runner reads a local copy line by line, so it can count the lines first (a
job's ``TotalPieces`` is known before it starts, as Pinpoint reports it) and read them again
when a retried job re-parses the pieces it already wrote. S3 is read through boto3 from the
endpoint in the settings (``INAPP_S3_ENDPOINT_URL``: any S3-compatible server; unset means
AWS), with the settings' keys or boto3's usual credential chain.

Which objects an ``S3Url`` names (Pinpoint: "the key for an individual object or a prefix
that qualifies multiple objects", subfolders included): the object whose key equals the path,
else every object whose key starts with it and ends like the format (``.csv``; ``.json``,
``.jsonl``, ``.ndjson``), in key order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.imports.parsing import ImportFormat
from engine.settings import Settings

__all__ = [
    "FORMAT_SUFFIXES",
    "S3Object",
    "S3SourceError",
    "SourceFile",
    "count_lines",
    "download_objects",
    "file_fingerprint",
    "format_for_path",
    "list_s3_objects",
    "parse_s3_url",
    "read_lines",
    "s3_client",
]

FORMAT_SUFFIXES: dict[str, tuple[str, ...]] = {"CSV": (".csv",), "JSON": (".json", ".jsonl", ".ndjson")}
_CHUNK = 1 << 20


class S3SourceError(Exception):
    """The S3 location cannot be read (bad URL, no such bucket, no files, access refused)."""


@dataclass(frozen=True)
class SourceFile:
    """One file of a job: ``name`` is what reports show, ``path`` the local copy."""

    name: str
    path: Path


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    etag: str
    size: int

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def format_for_path(path: str) -> ImportFormat | None:
    """CSV or JSON from a file name's extension; None when it says neither."""
    lowered = path.lower()
    for fmt, suffixes in FORMAT_SUFFIXES.items():
        if lowered.endswith(suffixes):
            return "CSV" if fmt == "CSV" else "JSON"
    return None


def count_lines(path: Path) -> int:
    """Lines in a file (a last line without a line end counts)."""
    count = 0
    last = b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def read_lines(path: Path) -> Iterator[bytes]:
    """The file's lines as bytes, line ends removed."""
    with path.open("rb") as handle:
        for raw in handle:
            yield raw.rstrip(b"\r\n")


def file_fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# -- S3 -----------------------------------------------------------------------------------


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/path`` -> (bucket, path); raises S3SourceError otherwise."""
    if not url.startswith("s3://"):
        raise S3SourceError(f"S3Url {url!r} must look like s3://bucket-name/folder-name/file-name")
    bucket, _, key = url[len("s3://"):].partition("/")
    if not bucket:
        raise S3SourceError(f"S3Url {url!r} names no bucket")
    return bucket, key


def s3_client(settings: Settings) -> Any:
    import boto3
    from botocore.config import Config

    secret = settings.s3_secret_access_key
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=secret.get_secret_value() if secret is not None else None,
        config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30),
    )


def list_s3_objects(client: Any, url: str, fmt: ImportFormat) -> list[S3Object]:
    """The objects ``url`` names for ``fmt`` (module docstring); blocking (boto3)."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, path = parse_s3_url(url)
    found: list[S3Object] = []
    try:
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=path):
            for item in page.get("Contents", ()):
                found.append(S3Object(bucket, item["Key"], str(item.get("ETag", "")).strip('"'),
                                      int(item.get("Size", 0))))
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise S3SourceError(f"{url}: {error.get('Code', 'error')}: {error.get('Message', exc)}") from None
    except BotoCoreError as exc:
        raise S3SourceError(f"{url}: {exc}") from None
    exact = [obj for obj in found if obj.key == path]
    if exact:
        return exact
    chosen = sorted((o for o in found if format_for_path(o.key) == fmt), key=lambda o: o.key)
    if not chosen:
        raise S3SourceError(f"{url}: no {fmt} files ({', '.join(FORMAT_SUFFIXES[fmt])}) at this location")
    return chosen


def download_objects(client: Any, objects: Sequence[S3Object], directory: Path) -> list[SourceFile]:
    """Local copies of ``objects`` in ``directory``; blocking (boto3)."""
    from botocore.exceptions import BotoCoreError, ClientError

    files = []
    for n, obj in enumerate(objects):
        target = directory / f"{n:05d}"
        try:
            client.download_file(obj.bucket, obj.key, str(target))
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise S3SourceError(f"{obj.url}: {error.get('Code', 'error')}: {error.get('Message', exc)}") from None
        except BotoCoreError as exc:
            raise S3SourceError(f"{obj.url}: {exc}") from None
        files.append(SourceFile(obj.url, target))
    return files
