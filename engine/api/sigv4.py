"""SigV4 verification of incoming requests (PRODUCT.md, public contracts; STYLE.md 8).

The request is re-signed with botocore's own signer over an ``AWSRequest`` rebuilt from what
arrived: method, the path and query exactly as sent, the headers the client listed in
``SignedHeaders``, the body, and the client's ``X-Amz-Date``. The signature we compute is
compared with the one sent using :func:`hmac.compare_digest`. Nothing here logs a secret or a
signature (botocore's ``add_auth`` would log the signature at DEBUG, so it is not used).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.credentials import Credentials  # type: ignore[import-untyped]
from multidict import CIMultiDictProxy
from pydantic import SecretStr

from engine.api.errors import Forbidden

__all__ = ["SIGNING_SERVICE", "SigV4Verifier", "SignedBy"]

SIGNING_SERVICE = "mobiletargeting"
_ALGORITHM = "AWS4-HMAC-SHA256"
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_AUTH_FIELD = re.compile(r"\s*(Credential|SignedHeaders|Signature)=([^,\s]*)\s*")
_HEX_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")
_HEADER_NAME = re.compile(r"^[a-z0-9!#$%&'*+.^_`|~-]+$")


@dataclass(frozen=True)
class SignedBy:
    """Who signed a verified request (the access key id is not a secret)."""

    access_key_id: str
    region: str


@dataclass(frozen=True)
class _Authorization:
    access_key_id: str
    date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str


def _parse_authorization(value: str) -> _Authorization:
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != _ALGORITHM:
        raise Forbidden(f"Authorization header must use {_ALGORITHM}.")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        match = _AUTH_FIELD.fullmatch(part)
        if match is None or match.group(1) in fields:
            raise Forbidden("Authorization header is malformed.")
        fields[match.group(1)] = match.group(2)
    if set(fields) != {"Credential", "SignedHeaders", "Signature"}:
        raise Forbidden("Authorization header needs Credential, SignedHeaders and Signature.")
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or not all(scope):
        raise Forbidden("Authorization Credential must be KEY/DATE/REGION/SERVICE/aws4_request.")
    signed = tuple(fields["SignedHeaders"].split(";"))
    if not all(_HEADER_NAME.match(name) for name in signed) or list(signed) != sorted(set(signed)):
        raise Forbidden("Authorization SignedHeaders must be sorted lower-case header names.")
    if not _HEX_SIGNATURE.match(fields["Signature"]):
        raise Forbidden("Authorization Signature is malformed.")
    return _Authorization(scope[0], scope[1], scope[2], scope[3], scope[4], signed, fields["Signature"])


class SigV4Verifier:
    """Verifies SigV4 (service ``mobiletargeting``, any region) against configured keys."""

    def __init__(
        self,
        credentials: Mapping[str, SecretStr],
        max_clock_skew_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._credentials = dict(credentials)
        self._max_skew = max_clock_skew_seconds
        self._clock = clock

    def verify(
        self, method: str, raw_path: str, headers: CIMultiDictProxy[str], body: bytes
    ) -> SignedBy:
        """Return the signer of a valid request; raise :class:`Forbidden` otherwise."""
        if not self._credentials:
            raise Forbidden(
                "No API credentials are configured (INAPP_API_CREDENTIALS), so every request "
                "is refused; there is no anonymous access."
            )
        values = headers.getall("Authorization", [])
        if not values:
            raise Forbidden("Missing Authentication Token: requests must be signed with SigV4.")
        if len(values) > 1:
            raise Forbidden("Authorization header is malformed.")
        auth = _parse_authorization(values[0])
        if auth.service != SIGNING_SERVICE or auth.terminator != "aws4_request":
            raise Forbidden(f"Credential scope must name the service {SIGNING_SERVICE!r}.")
        if "host" not in auth.signed_headers or "x-amz-date" not in auth.signed_headers:
            raise Forbidden("SignedHeaders must include host and x-amz-date.")
        amz_date = self._checked_date(headers, auth)
        secret = self._credentials.get(auth.access_key_id)
        if secret is None:
            raise Forbidden("The security token included in the request is invalid (unknown access key).")
        if "#" in raw_path:
            raise Forbidden("The request target is malformed.")
        request = self._rebuild(method, raw_path, headers, body, auth)
        signer = SigV4Auth(
            Credentials(auth.access_key_id, secret.get_secret_value()), auth.service, auth.region
        )
        request.context["timestamp"] = amz_date
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected.encode("ascii"), auth.signature.encode("ascii")):
            raise Forbidden(
                "The request signature we calculated does not match the signature you provided."
            )
        return SignedBy(auth.access_key_id, auth.region)

    def _checked_date(self, headers: CIMultiDictProxy[str], auth: _Authorization) -> str:
        amz_date = headers.get("X-Amz-Date", "")
        try:
            signed_at = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=timezone.utc)
        except ValueError:
            raise Forbidden("X-Amz-Date must be present as YYYYMMDDTHHMMSSZ.") from None
        if auth.date != amz_date[:8]:
            raise Forbidden("Credential scope date does not match X-Amz-Date.")
        skew = abs(self._clock() - signed_at.timestamp())
        if skew > self._max_skew:
            raise Forbidden(
                f"Signature expired or not yet valid: X-Amz-Date {amz_date} is more than "
                f"{int(self._max_skew)} seconds away from the server time."
            )
        return amz_date

    @staticmethod
    def _rebuild(
        method: str,
        raw_path: str,
        headers: CIMultiDictProxy[str],
        body: bytes,
        auth: _Authorization,
    ) -> AWSRequest:
        signed: list[tuple[str, str]] = []
        for name in auth.signed_headers:
            found = headers.getall(name, [])
            if not found:
                raise Forbidden(f"Signed header {name!r} is missing from the request.")
            signed.extend((name, value) for value in found)
        content_sha = headers.get("X-Amz-Content-SHA256")
        if content_sha is not None and content_sha != hashlib.sha256(body).hexdigest():
            # botocore trusts this header as the body hash; we only accept the real one
            raise Forbidden("X-Amz-Content-SHA256 does not match the request body.")
        # the path and query exactly as sent: the signer canonicalises them as the client did
        request = AWSRequest(method=method.upper(), url=f"http://signed.invalid{raw_path}", data=body)
        for name, value in signed:
            request.headers[name] = value  # HTTPHeaders appends: repeated headers are kept
        return request
