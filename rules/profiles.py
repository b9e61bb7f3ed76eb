"""Endpoint upserts: how an UpdateEndpoint / PutEvents endpoint merges into the stored one.

Reference §6.1: values given for an attribute replace the stored values of that attribute;
attributes not named in the request are kept (Amplify sends empty maps on every update);
``CreationDate`` is set once; ``EffectiveDate`` is the client's value or the server time;
``EndpointStatus`` becomes ACTIVE unless the request says otherwise; ``CohortId`` is fixed
per endpoint. An empty PutEvents ``Endpoint`` changes nothing (reference §6.2).
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["merge_endpoint", "cohort_id"]

# maps whose keys merge one by one; every other member is replaced whole
_KEYED_MAPS = ("Attributes", "Metrics")
_NESTED = ("Demographic", "Location")


def cohort_id(endpoint_id: str) -> str:
    """A stable "0".."99" cohort per endpoint (reference §6.1)."""
    digest = hashlib.blake2b(endpoint_id.encode(), digest_size=8).digest()
    return str(int.from_bytes(digest, "big") % 100)


def merge_endpoint(
    stored: dict[str, Any] | None,
    request: dict[str, Any],
    *,
    application_id: str,
    endpoint_id: str,
    now_iso: str,
    imported_segments: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    """The EndpointResponse wire dict after applying ``request`` (EndpointRequest members)."""
    merged: dict[str, Any] = dict(stored) if stored else {}
    for member, value in request.items():
        if member in ("Id", "ApplicationId", "CreationDate", "CohortId", "ImportedSegments"):
            continue  # identity and server-owned members
        if member in _KEYED_MAPS and isinstance(value, dict):
            merged[member] = {**merged.get(member, {}), **value}
        elif member in _NESTED and isinstance(value, dict):
            merged[member] = {**merged.get(member, {}), **value}
        elif member == "User" and isinstance(value, dict):
            user = dict(merged.get("User", {}))
            if "UserId" in value:
                user["UserId"] = value["UserId"]
            if isinstance(value.get("UserAttributes"), dict):
                user["UserAttributes"] = {**user.get("UserAttributes", {}), **value["UserAttributes"]}
            merged["User"] = user
        else:
            merged[member] = value
    merged["ApplicationId"] = application_id
    merged["Id"] = endpoint_id
    merged.setdefault("CreationDate", now_iso)
    merged.setdefault("CohortId", cohort_id(endpoint_id))
    if request and "EffectiveDate" not in request:
        merged["EffectiveDate"] = now_iso
    merged.setdefault("EffectiveDate", now_iso)
    if request and "EndpointStatus" not in request:
        merged["EndpointStatus"] = "ACTIVE"
    if imported_segments:
        merged["ImportedSegments"] = sorted({*merged.get("ImportedSegments", ()), *imported_segments})
    return merged
