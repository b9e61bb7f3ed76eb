"""Wire conventions shared by every operation (reference §2, §3.2, §3.3).

Bodies are the unwrapped payload structure; dates inside resources are ISO-8601 strings with
milliseconds (``YYYY-MM-DDTHH:MM:SS.sssZ``); ids are 32 lower-case hex characters; pagination
uses ``page-size`` and an opaque ``token``.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar

import orjson
from aiohttp import web

from engine.api.errors import BadRequest

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "app_arn",
    "campaign_arn",
    "iso_timestamp",
    "json_response",
    "list_body",
    "new_resource_id",
    "paginate",
    "parse_json_body",
    "parse_timestamp",
    "segment_arn",
    "template_arn",
]

T = TypeVar("T")
# Pinpoint documents no default page size for these lists; 100 covers the in-app quotas
# (25 in-app campaigns per project) without paging, as boto3 users expect.
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def iso_timestamp(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.sssZ`` in UTC (the format of every AWS sample, reference §2.4)."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(value: str, name: str) -> datetime:
    """An ISO-8601 instant; naive values are UTC. Raises :class:`BadRequest` naming ``name``."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{name}: {value!r} is not an ISO-8601 date-time.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def new_resource_id() -> str:
    return uuid.uuid4().hex


def app_arn(region: str, account: str, app_id: str) -> str:
    return f"arn:aws:mobiletargeting:{region}:{account}:apps/{app_id}"


def segment_arn(region: str, account: str, app_id: str, segment_id: str) -> str:
    return f"{app_arn(region, account, app_id)}/segments/{segment_id}"


def campaign_arn(region: str, account: str, app_id: str, campaign_id: str) -> str:
    return f"{app_arn(region, account, app_id)}/campaigns/{campaign_id}"


def template_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:mobiletargeting:{region}:{account}:templates/{name}/INAPP"


def json_response(payload: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(payload), status=status, content_type="application/json"
    )


def parse_json_body(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object; anything else is :class:`BadRequest`."""
    if not body.strip():
        raise BadRequest("The request body is required and must be a JSON object.")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(value, dict):
        raise BadRequest("The request body must be a JSON object.")
    return value


def paginate(items: Sequence[T], page_size: str | None, token: str | None) -> tuple[list[T], str | None]:
    """Slice ``items`` (already in a stable order) by ``page-size`` and an opaque ``token``.

    The token encodes the offset of the next item; an invalid one is :class:`BadRequest`.
    """
    size = DEFAULT_PAGE_SIZE
    if page_size is not None:
        try:
            size = int(page_size)
        except ValueError:
            raise BadRequest(f"page-size: {page_size!r} is not an integer.") from None
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise BadRequest(f"page-size must be between 1 and {MAX_PAGE_SIZE}.")
    start = 0
    if token:
        start = _decode_token(token)
    end = start + size
    next_token = _encode_token(end) if end < len(items) else None
    return list(items[start:end]), next_token


def list_body(items: list[Any], next_token: str | None) -> dict[str, Any]:
    """``{"Item": [...], "NextToken": ...}``; ``NextToken`` only when there is a next page."""
    body: dict[str, Any] = {"Item": items}
    if next_token:
        body["NextToken"] = next_token
    return body


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _decode_token(token: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        prefix, _, number = raw.partition(":")
        offset = int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest("token is not a valid pagination token.") from None
    if prefix != "o" or offset < 0:
        raise BadRequest("token is not a valid pagination token.")
    return offset
