"""The forwarder delivers inapp.pinpoint-events batches with boto3 to a PutEvents server.

The server is a real HTTP server on loopback speaking Pinpoint's PutEvents wire format: it
throttles the first call (429), fails the second (503), then accepts everything except
events of type ``reject_me``, which it refuses per item (400) as Pinpoint does.
"""

from __future__ import annotations

import asyncio
import threading
import uuid

import orjson
import pytest
from aiohttp import web

from engine.brokers import free_port
from engine.launcher import Deployment, WorkerProcess
from engine.scenario import BlogScenario, app_event
from tests.integration.replay import read_topic
from tests.integration.workers import CREDENTIALS, pinpoint_client, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


class PutEventsServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.calls: list[tuple[int, str, dict]] = []
        self.statuses: list[int] = []
        self.received: dict[str, dict] = {}
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()

    async def _put_events(self, request: web.Request) -> web.Response:
        body = await request.json()
        app_id = request.match_info["app"]
        attempt = len(self.calls) + 1
        signed = request.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 Credential=FWDKEY/")
        self.calls.append((attempt, app_id, body))
        self.statuses.append(403 if not signed else 429 if attempt == 1 else 503 if attempt == 2 else 202)
        if not signed:
            return web.json_response({"Message": "unsigned", "RequestID": "x"}, status=403,
                                     headers={"x-amzn-ErrorType": "ForbiddenException"})
        if attempt == 1:
            return web.json_response({"Message": "slow down", "RequestID": "x"}, status=429,
                                     headers={"x-amzn-ErrorType": "TooManyRequestsException"})
        if attempt == 2:
            return web.json_response({"Message": "oops", "RequestID": "x"}, status=503,
                                     headers={"x-amzn-ErrorType": "InternalServerErrorException"})
        results = {}
        for endpoint_id, item in body["BatchItem"].items():
            statuses = {}
            for event_id, event in item["Events"].items():
                if event["EventType"] == "reject_me":
                    statuses[event_id] = {"StatusCode": 400, "Message": "Event attribute value exceeds 200"}
                else:
                    statuses[event_id] = {"StatusCode": 202, "Message": "Accepted"}
                    self.received[event_id] = {"app": app_id, **event}
            results[endpoint_id] = {"EndpointItemResponse": {"StatusCode": 202, "Message": "Accepted"},
                                    "EventsItemResponse": statuses}
        return web.json_response({"Results": results}, status=202)

    def start(self) -> "PutEventsServer":
        def run() -> None:
            asyncio.set_event_loop(self._loop)
            app = web.Application()
            app.router.add_post("/v1/apps/{app}/events", self._put_events)
            runner = web.AppRunner(app)
            self._loop.run_until_complete(runner.setup())
            self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
            self._started.set()
            self._loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        self._started.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)


def test_batches_reach_a_pinpoint_endpoint_with_retries_and_rejects_dead_lettered(kafka_bootstrap, broker_kind, tmp_path):
    server = PutEventsServer().start()
    tag = uuid.uuid4().hex[:8]
    deployment = Deployment(
        bootstrap=kafka_bootstrap, credentials=CREDENTIALS, prefix=f"fwd{tag}.", app_id=f"inapp-fwd-{tag}",
        partitions=2, data_dir=tmp_path, embedded_broker=broker_kind == "tansu",
        extra_env={
            "INAPP_FORWARD_ENDPOINT_URL": f"http://127.0.0.1:{server.port}",
            "INAPP_FORWARD_ACCESS_KEY_ID": "FWDKEY",
            "INAPP_FORWARD_SECRET_ACCESS_KEY": "forward-secret",
            "INAPP_FORWARD_APP_IDS": "",
        },
    )
    worker = WorkerProcess(deployment).start()
    try:
        client = pinpoint_client(worker.base_url)
        blog = BlogScenario(client, kafka_bootstrap, prefix=deployment.prefix)
        blog.create_resources()
        good = [app_event(blog.app_id, "111", "app_launch"), app_event(blog.app_id, "222", "app_launch")]
        bad = app_event(blog.app_id, "222", "reject_me")
        asyncio.run(blog.publish([*good, bad]))
        decisions = asyncio.run(blog.collect_decisions(expected=1, quiet=1.0))
        wait_until(lambda: {e["EventId"] for e in good} <= set(server.received), timeout=60,
                   message="forwarded events")
        decision_id = decisions[0]["DecisionId"]
        wait_until(lambda: decision_id in server.received, timeout=30, message="the _campaign.send record")
        send = server.received[decision_id]
        assert send["EventType"] == "_campaign.send"
        assert send["Attributes"]["campaign_id"] == blog.campaign_id
        assert send["Attributes"]["delivery_type"] == "IN_APP_MESSAGE"
        assert send["Attributes"]["treatment_id"] == "0"
        assert server.statuses[:3] == [429, 503, 202], "throttling and a server error are retried"
        assert all(app == blog.app_id for _, app, _ in server.calls)
        assert bad["EventId"] not in server.received

        def rejected() -> list[dict]:
            records = asyncio.run(read_topic(kafka_bootstrap, f"{deployment.prefix}dead-letter", idle=0.5))
            letters = [orjson.loads(r.value) for r in records]
            return [dl for dl in letters if dl["ErrorClass"] == "RejectedItem"]

        letters = wait_until(rejected, timeout=30, message="the refused event in the dead-letter topic")
        assert bad["EventId"] in letters[0]["Reason"] and "400" in letters[0]["Reason"]
        assert letters[0]["SourceTopic"] == f"{deployment.prefix}pinpoint-events"
        assert "forward-secret" not in worker.log_text()
    finally:
        worker.stop()
        server.stop()
