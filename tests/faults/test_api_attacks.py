"""Attacks on the API of a real worker process (tests/api/test_security.py does the same
against an in-process API with a memory backend; here it is `inapp worker`, logging at DEBUG).

Unsigned, wrong secret, unknown access key, a request signed 20 minutes ago (outside the
15-minute skew window), tampered body and query: 403 ForbiddenException. Path traversal in ids
(``../``, ``%2e%2e%2f``, ids with ``/`` and ``$``): refused with 4xx, never served from
another resource, never 5xx. A 64 KB header, 2,000 headers, a 64 KB URL: 4xx, and the worker
carries on. Then the worker's log holds neither a secret nor the ``Signature=`` of any
request sent.
"""

from __future__ import annotations

import http.client
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import orjson
import pytest

from engine.launcher import Deployment, WorkerProcess
from tests.api.harness import sign_headers
from tests.integration.workers import ACCESS_KEY, CREDENTIALS, SECRET_KEY, pinpoint_client

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.faults]

WRONG_SECRET = "wrong-secret-" + uuid.uuid4().hex
UNKNOWN_KEY = "AKIAUNKNOWNKEY000001"


@dataclass(frozen=True)
class Answer:
    status: int
    error_type: str
    body: bytes


class Attacker:
    """Sends exact bytes to a worker's API, signing with botocore's signer when asked, and
    remembers every signature it sent."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.signatures: list[str] = []

    def send(self, method: str, path: str, body: bytes = b"", *, sign: bool = True,
             secret: str = SECRET_KEY, access_key: str = ACCESS_KEY, amz_date: str | None = None,
             send_path: str | None = None, send_body: bytes | None = None,
             headers: Mapping[str, str] | None = None) -> Answer:
        extra = dict(headers or {})
        if body:
            extra.setdefault("Content-Type", "application/json")
        if sign:
            extra = sign_headers(method, self.base_url + path, body, extra, access_key=access_key,
                                 secret_key=secret, amz_date=amz_date)
            self.signatures.append(re.search(r"Signature=([0-9a-f]{64})", extra["Authorization"]).group(1))  # type: ignore[union-attr]
        payload = body if send_body is None else send_body
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.putrequest(method, send_path or path, skip_host=True, skip_accept_encoding=True)
            if not any(k.lower() == "host" for k in extra):
                conn.putheader("Host", f"{self.host}:{self.port}")
            for name, value in extra.items():
                conn.putheader(name, value)
            conn.putheader("Content-Length", str(len(payload)))
            conn.endheaders(payload)
            response = conn.getresponse()
            return Answer(response.status, response.getheader("x-amzn-ErrorType") or "", response.read())
        finally:
            conn.close()


def _stamp(ago: timedelta) -> str:
    return (datetime.now(UTC) - ago).strftime("%Y%m%dT%H%M%SZ")


@pytest.fixture(scope="module")
def worker(kafka_bootstrap, broker_kind, tmp_path_factory):
    tag = uuid.uuid4().hex[:8]
    deployment = Deployment(bootstrap=kafka_bootstrap, credentials=CREDENTIALS, prefix=f"atk{tag}.",
                            app_id=f"inapp-atk-{tag}", partitions=2,
                            data_dir=tmp_path_factory.mktemp("api-attacks"),
                            extra_env={"INAPP_LOG_LEVEL": "debug"},
                            embedded_broker=broker_kind == "tansu")
    process = WorkerProcess(deployment).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def attacker(worker) -> Attacker:
    return Attacker(worker.base_url)


@pytest.fixture(scope="module")
def app_id(worker) -> str:
    client = pinpoint_client(worker.base_url)
    created = client.create_app(CreateApplicationRequest={"Name": "attacked"})["ApplicationResponse"]["Id"]
    client.update_endpoints_batch(ApplicationId=created, EndpointBatchRequest={"Item": [
        {"Id": "victim", "ChannelType": "IN_APP", "Address": "secret-address"}]})
    client.get_endpoint(ApplicationId=created, EndpointId="victim")
    return str(created)


FORBIDDEN = [
    ("unsigned", dict(sign=False)),
    ("wrong-secret", dict(secret=WRONG_SECRET)),
    ("unknown-access-key", dict(access_key=UNKNOWN_KEY)),
    ("signed-20-minutes-ago", dict(amz_date=_stamp(timedelta(minutes=20)))),
    ("signed-20-minutes-ahead", dict(amz_date=_stamp(-timedelta(minutes=20)))),
]


@pytest.mark.parametrize("name,how", FORBIDDEN, ids=[n for n, _ in FORBIDDEN])
def test_a_request_that_is_not_validly_signed_now_is_forbidden(name, how, attacker):
    answer = attacker.send("GET", "/v1/apps", **how)
    assert (answer.status, answer.error_type) == (403, "ForbiddenException"), answer.body


def test_a_captured_request_replayed_after_the_skew_window_is_forbidden(attacker):
    # the same headers a client sent 20 minutes ago, byte for byte
    old = _stamp(timedelta(minutes=20))
    answer = attacker.send("POST", "/v1/apps", b'{"Name": "replayed"}', amz_date=old)
    assert (answer.status, answer.error_type) == (403, "ForbiddenException")
    assert b"X-Amz-Date" in answer.body


def test_a_tampered_body_or_query_is_forbidden(attacker, worker):
    before = pinpoint_client(worker.base_url).get_apps()["ApplicationsResponse"]["Item"]
    body = attacker.send("POST", "/v1/apps", b'{"Name": "innocent"}', send_body=b'{"Name": "malicious"}')
    query = attacker.send("GET", "/v1/apps?page-size=2", send_path="/v1/apps?page-size=3")
    added = attacker.send("GET", "/v1/apps?page-size=2", send_path="/v1/apps?page-size=2&token=x")
    assert [(a.status, a.error_type) for a in (body, query, added)] == [(403, "ForbiddenException")] * 3
    after = pinpoint_client(worker.base_url).get_apps()["ApplicationsResponse"]["Item"]
    assert [a["Name"] for a in after] == [a["Name"] for a in before], "a tampered request created an app"


def _traversals(app_id: str) -> list[tuple[str, str, str, bytes]]:
    endpoint = orjson.dumps({"ChannelType": "IN_APP", "Address": "x"})
    return [
        ("app-id-dotdot-encoded", "GET", "/v1/apps/%2e%2e%2fapps", b""),
        ("app-id-dotdot-upper", "GET", "/v1/apps/%2E%2E%2F%2E%2E%2Fv1%2Fapps", b""),
        ("endpoint-id-dotdot-etc-passwd", "GET", f"/v1/apps/{app_id}/endpoints/..%2F..%2F..%2Fetc%2Fpasswd", b""),
        ("endpoint-id-dotdot-victim", "GET", f"/v1/apps/{app_id}/endpoints/x%2F..%2Fvictim", b""),
        ("endpoint-id-with-slash", "PUT", f"/v1/apps/{app_id}/endpoints/a%2Fb", endpoint),
        ("endpoint-id-with-dollar", "PUT", f"/v1/apps/{app_id}/endpoints/ep%24x", endpoint),
        ("endpoint-id-dotdot-slash", "PUT", f"/v1/apps/{app_id}/endpoints/..%2Fvictim", endpoint),
        ("campaign-id-dotdot", "DELETE", f"/v1/apps/{app_id}/campaigns/%2e%2e", b""),
        ("segment-id-dotdot-slash", "GET", f"/v1/apps/{app_id}/segments/..%2f..%2f{app_id}", b""),
        ("template-name-dotdot", "GET", "/v1/templates/..%2F..%2Fetc%2Fpasswd/inapp", b""),
        ("kpi-name-dotdot", "GET", f"/v1/apps/{app_id}/campaigns/c/kpis/daterange/..%2f..%2fetc", b""),
    ]


TRAVERSAL_NAMES = [t[0] for t in _traversals("app")]


@pytest.mark.parametrize("name", TRAVERSAL_NAMES)
def test_path_traversal_in_ids_is_refused_without_touching_other_resources(name, attacker, app_id, worker):
    _, method, path, body = next(t for t in _traversals(app_id) if t[0] == name)
    answer = attacker.send(method, path, body)
    assert 400 <= answer.status < 500, f"{name}: {answer.status} {answer.body[:300]!r}"
    assert answer.error_type in ("BadRequestException", "NotFoundException"), answer.error_type
    assert b"secret-address" not in answer.body and b"root:" not in answer.body
    victim = pinpoint_client(worker.base_url).get_endpoint(ApplicationId=app_id, EndpointId="victim")
    assert victim["EndpointResponse"]["Address"] == "secret-address", "the victim endpoint was changed"


def test_a_literal_dotdot_path_does_not_escape_the_api(attacker):
    # unsigned, so whatever the path normalises to, it must be refused before routing
    answer = attacker.send("GET", "/v1/apps/../../../etc/passwd", sign=False)
    assert 400 <= answer.status < 500 and b"root:" not in answer.body, answer.status


HUGE = [
    ("header-64kb", dict(headers={"X-Padding": "a" * 65536})),
    ("2000-headers", dict(headers={f"X-Pad-{n}": "b" for n in range(2000)})),
    ("authorization-64kb", dict(sign=False, headers={"Authorization": "AWS4-HMAC-SHA256 " + "C" * 65536})),
]


@pytest.mark.parametrize("name,how", HUGE, ids=[n for n, _ in HUGE])
def test_huge_headers_get_a_4xx_and_the_worker_carries_on(name, how, attacker, worker):
    answer = attacker.send("GET", "/v1/apps", **how)
    assert 400 <= answer.status < 500, f"{name}: {answer.status}"
    assert worker.alive
    assert pinpoint_client(worker.base_url).get_apps()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_a_64kb_url_gets_a_4xx_and_the_worker_carries_on(attacker, worker):
    answer = attacker.send("GET", "/v1/apps/" + "a" * 65536)
    assert 400 <= answer.status < 500, answer.status
    assert worker.alive


def test_the_log_holds_no_secret_and_no_signature(attacker, worker, figures, request):
    # runs last in this module: everything above has been sent and logged
    log = worker.log_text()
    assert worker.alive, worker.log_tail()
    assert "ready " in log and len(log) > 10_000, "the worker should have logged at DEBUG"
    leaked_secrets = [s for s in (SECRET_KEY, WRONG_SECRET) if s in log]
    leaked = [s for s in attacker.signatures if s in log]
    figures.report(requests_signed=len(attacker.signatures), log_bytes=len(log),
                   secrets_in_log=len(leaked_secrets), signatures_in_log=len(leaked))
    assert leaked_secrets == [], "a secret reached the worker's log"
    assert leaked == [], f"{len(leaked)} request signatures reached the worker's log"
    assert not re.search(r"Signature=[0-9a-f]{16,}", log)
