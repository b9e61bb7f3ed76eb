"""Dead letters: what could not be processed, with the reason and where it came from.

PRODUCT.md semantics 10: bad input never stops the engine and is never silently lost.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from pydantic import ValidationError

from topics.wire import DeadLetter, encode_json, original_bytes

__all__ = ["DEAD_LETTER_VALUE_LIMIT", "dead_letter_for", "describe_error"]

# a dead letter keeps at most this much of the original value (and a quarter of it of the
# key), so it always fits the producer's 1 MB request limit even in base64 (PRODUCT.md
# semantics 10: nothing is lost silently; an oversized record is reported with its size)
DEAD_LETTER_VALUE_LIMIT = 256 * 1024

log = logging.getLogger(__name__)


def describe_error(exc: BaseException) -> tuple[str, str | None]:
    """(reason, field path) of an error, without echoing secrets or huge inputs."""
    if isinstance(exc, ValidationError):
        first = exc.errors(include_url=False, include_input=False)
        parts = []
        for err in first[:5]:
            loc = ".".join(str(p) for p in err.get("loc", ()))
            parts.append(f"{loc}: {err.get('msg')}" if loc else str(err.get("msg")))
        field = ".".join(str(p) for p in first[0].get("loc", ())) if first else None
        more = f" (+{len(first) - 5} more)" if len(first) > 5 else ""
        return "; ".join(parts) + more, field or None
    field = getattr(exc, "field", None)
    reason = getattr(exc, "reason", None) or str(exc) or exc.__class__.__name__
    return str(reason)[:2000], field


def dead_letter_for(
    exc: BaseException,
    *,
    topic: str,
    partition: int | None,
    offset: int | None,
    key: bytes | None,
    value: bytes | None,
) -> tuple[bytes | None, bytes]:
    """(key, value) of the dead-letter record for ``exc`` raised on that source record."""
    reason, field = describe_error(exc)
    truncated = value is not None and len(value) > DEAD_LETTER_VALUE_LIMIT
    text, encoding = original_bytes(value[:DEAD_LETTER_VALUE_LIMIT] if truncated and value is not None else value)
    key = key[: DEAD_LETTER_VALUE_LIMIT // 4] if key is not None else None
    key_text, _ = original_bytes(key)
    record = DeadLetter(
        SourceTopic=topic,
        SourcePartition=partition,
        SourceOffset=offset,
        Key=key_text,
        Value=text,
        ValueEncoding=encoding,
        ValueSize=len(value) if value is not None else None,
        ValueTruncated=truncated,
        ErrorClass=exc.__class__.__name__,
        Reason=reason,
        Field=field,
        ReceivedAt=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    )
    log.warning("dead-lettered %s[%s]@%s: %s", topic, partition, offset, reason[:200])
    return key, encode_json(record)
