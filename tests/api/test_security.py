"""SigV4 is required on every request (PRODUCT.md public contracts); failures are 403."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.api.harness import (
    ACCESS_KEY,
    OTHER_KEY,
    OTHER_SECRET,
    SECRET_KEY,
    RawResponse,
    RunningApi,
    api_settings,
    pinpoint_client,
    sign_headers,
)


def _forbidden(answer: RawResponse) -> str:
    assert answer.status == 403, answer.body
    assert answer.headers["x-amzn-errortype"] == "ForbiddenException"
    body = answer.json()
    assert body["RequestID"] == answer.headers["x-amzn-requestid"]
    return str(body["Message"])


def _stamp(delta: timedelta = timedelta()) -> str:
    return (datetime.now(timezone.utc) + delta).strftime("%Y%m%dT%H%M%SZ")


def test_signed_requests_work_from_any_region_and_any_configured_key(api: RunningApi) -> None:
    for kwargs in ({"region": "ap-south-1"}, {"access_key": OTHER_KEY, "secret_key": OTHER_SECRET}):
        client = api.client(**kwargs)
        assert client.get_apps()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_unsigned_request_is_forbidden(api: RunningApi) -> None:
    assert "Missing Authentication Token" in _forbidden(api.raw("GET", "/v1/apps", sign=False))


def test_wrong_secret_is_forbidden(api: RunningApi) -> None:
    client = pinpoint_client(api.base_url, ACCESS_KEY, "not-the-secret")
    with pytest.raises(client.exceptions.ForbiddenException, match="signature"):
        client.get_apps()


def test_unknown_access_key_is_forbidden(api: RunningApi) -> None:
    client = pinpoint_client(api.base_url, "AKIDUNKNOWN", SECRET_KEY)
    with pytest.raises(client.exceptions.ForbiddenException, match="unknown access key"):
        client.create_app(CreateApplicationRequest={"Name": "x"})
    assert api.backend.control_writes == []


@pytest.mark.parametrize("minutes", [-16, 16])
def test_clock_skew_beyond_fifteen_minutes_is_forbidden(api: RunningApi, minutes: int) -> None:
    assert "X-Amz-Date" in _forbidden(api.raw("GET", "/v1/apps", amz_date=_stamp(timedelta(minutes=minutes))))


def test_clock_skew_within_limit_is_accepted(api: RunningApi) -> None:
    assert api.raw("GET", "/v1/apps", amz_date=_stamp(timedelta(minutes=-14))).status == 200


def test_tampered_body_is_forbidden(api: RunningApi) -> None:
    signed = b'{"Name": "innocent"}'
    sent = b'{"Name": "malicious"}'
    _forbidden(api.raw("POST", "/v1/apps", signed, send_body=sent))
    assert api.backend.control_writes == []


def test_tampered_query_is_forbidden(api: RunningApi) -> None:
    assert api.raw("GET", "/v1/apps?page-size=2").status == 200
    _forbidden(api.raw("GET", "/v1/apps?page-size=2", send_path="/v1/apps?page-size=3"))
    _forbidden(api.raw("GET", "/v1/apps?page-size=2", send_path="/v1/apps?page-size=2&token=x"))


def test_tampered_path_is_forbidden(api: RunningApi) -> None:
    app_id = api.client().create_app(CreateApplicationRequest={"Name": "a"})["ApplicationResponse"]["Id"]
    _forbidden(api.raw("DELETE", "/v1/apps/" + "0" * 32, send_path=f"/v1/apps/{app_id}"))
    assert api.client().get_app(ApplicationId=app_id)["ApplicationResponse"]["Id"] == app_id


def test_tampered_content_sha256_header_is_forbidden(api: RunningApi) -> None:
    signed = b'{"Name": "a"}'
    headers = {"X-Amz-Content-SHA256": hashlib.sha256(signed).hexdigest(), "Content-Type": "application/json"}
    assert api.raw("POST", "/v1/apps", signed, headers).status == 201
    _forbidden(api.raw("POST", "/v1/apps", signed, headers, send_body=b'{"Name": "b"}'))


def test_wrong_service_in_scope_is_forbidden(api: RunningApi) -> None:
    assert "mobiletargeting" in _forbidden(api.raw("GET", "/v1/apps", service="pinpoint"))


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic dXNlcjpwYXNz",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/mobiletargeting/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKID, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
        "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/mobiletargeting/aws4_request, SignedHeaders=host, Signature=" + "0" * 64,
        "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/mobiletargeting/aws4_request, SignedHeaders=x-amz-date;host, Signature=" + "0" * 64,
        "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/mobiletargeting/aws4_request, SignedHeaders=host;x-amz-date, Signature=zz",
    ],
)
def test_malformed_authorization_is_forbidden(api: RunningApi, authorization: str) -> None:
    _forbidden(api.raw("GET", "/v1/apps", headers={"Authorization": authorization, "X-Amz-Date": _stamp()}, sign=False))


def test_tampered_host_header_is_forbidden(api: RunningApi) -> None:
    url = api.base_url + "/v1/apps"
    headers = sign_headers("GET", url, b"")
    headers["Host"] = "evil.example:80"
    _forbidden(api.raw("GET", "/v1/apps", headers=headers, sign=False))


def test_no_configured_credentials_refuses_everything(api_factory: Any) -> None:
    api = api_factory(settings=api_settings(credentials=""))
    message = _forbidden(api.raw("GET", "/v1/apps"))
    assert "INAPP_API_CREDENTIALS" in message and "no anonymous access" in message
    with pytest.raises(api.client().exceptions.ForbiddenException):
        api.client().create_app(CreateApplicationRequest={"Name": "x"})


def test_every_error_is_checked_before_routing(api: RunningApi) -> None:
    # an unsigned request to an unknown path is refused, not told that the path is unknown
    _forbidden(api.raw("GET", "/v1/does-not-exist", sign=False))


def test_logs_never_contain_secrets_or_signatures(api: RunningApi, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sent_signatures: list[str] = []

    def send(*args: Any, **kwargs: Any) -> RawResponse:
        headers = sign_headers(
            args[0], api.base_url + args[1], args[2] if len(args) > 2 else b"",
            {"Content-Type": "application/json"} if len(args) > 2 else None,
            **{k: v for k, v in kwargs.items() if k in ("access_key", "secret_key", "amz_date")},
        )
        sent_signatures.append(re.search(r"Signature=([0-9a-f]{64})", headers["Authorization"]).group(1))  # type: ignore[union-attr]
        return api.raw(*args[:2], body=args[2] if len(args) > 2 else b"", headers=headers, sign=False,
                       send_body=kwargs.get("send_body"))

    assert send("POST", "/v1/apps", b'{"Name": "logged"}').status == 201
    assert send("GET", "/v1/apps").status == 200
    assert send("GET", "/v1/apps/" + "0" * 32).status == 404
    assert send("GET", "/v1/apps", secret_key="wrong-secret-value-123").status == 403
    assert send("GET", "/v1/apps", amz_date=_stamp(timedelta(hours=1))).status == 403
    assert send("POST", "/v1/apps", b'{"Name": "x"}', send_body=b'{"Name": "y"}').status == 403
    assert send("POST", "/v1/apps", b'{"Name": 5}').status == 400

    server_records = [r for r in caplog.records if r.name.startswith(("engine", "aiohttp"))]
    assert server_records, "the API should log the requests it refused"
    text = "\n".join(f"{r.name} {r.getMessage()} {r.__dict__}" for r in caplog.records)
    for secret in (SECRET_KEY, OTHER_SECRET, "wrong-secret-value-123"):
        assert secret not in text
    assert len(sent_signatures) == 7
    for signature in sent_signatures:
        assert signature not in text
    assert not re.search(r"Signature=[0-9a-f]{16,}", text)
