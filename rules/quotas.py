"""Pinpoint's endpoint quotas (reference §6.1), checked wherever endpoint data enters: the
API (a 400), segment imports (a failed row), and the engine applying ``inapp.endpoints``
records written by anyone else (a dead letter)."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = [
    "MAX_ATTRIBUTE_NAME",
    "MAX_ATTRIBUTE_VALUE",
    "MAX_ATTRIBUTE_VALUES",
    "MAX_ENDPOINT_BYTES",
    "endpoint_quota_problem",
]

MAX_ENDPOINT_BYTES = 15 * 1024
MAX_ATTRIBUTE_NAME = 50
MAX_ATTRIBUTE_VALUE = 100
MAX_ATTRIBUTE_VALUES = 50


def endpoint_quota_problem(endpoint: dict[str, Any]) -> str | None:
    """Why endpoint data breaks Pinpoint's endpoint quotas (reference §6.1), or None."""
    if len(orjson.dumps(endpoint)) > MAX_ENDPOINT_BYTES:
        return f"an endpoint may hold at most {MAX_ENDPOINT_BYTES} bytes"
    user = endpoint.get("User") or {}
    for field, attributes in (("Attributes", endpoint.get("Attributes")), ("User.UserAttributes", user.get("UserAttributes"))):
        for name, values in (attributes or {}).items():
            if len(name) > MAX_ATTRIBUTE_NAME:
                return f"{field}: attribute names are at most {MAX_ATTRIBUTE_NAME} characters"
            if len(values) > MAX_ATTRIBUTE_VALUES:
                return f"{field}.{name}: at most {MAX_ATTRIBUTE_VALUES} values"
            if any(len(value) > MAX_ATTRIBUTE_VALUE for value in values):
                return f"{field}.{name}: values are at most {MAX_ATTRIBUTE_VALUE} characters"
    if any(len(name) > MAX_ATTRIBUTE_NAME for name in endpoint.get("Metrics") or {}):
        return f"Metrics: names are at most {MAX_ATTRIBUTE_NAME} characters"
    return None
