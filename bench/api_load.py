"""The benchmark's use of the Pinpoint API: resources through boto3 (as users create them),
and the GetInAppMessages load (aiohttp with botocore's SigV4 signer).

GetInAppMessages requests are signed with ``botocore.auth.SigV4Auth`` *before* the timed
window, one request per endpoint, and replayed in a cycle (the server accepts a signature
for ``max_clock_skew_seconds``, 15 min by default): the window measures the server and
aiohttp's client, not the signer (~0.1 ms of client CPU a request on this box).
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from yarl import URL

from bench.kafka_io import publish
from bench.workload import app_settings_request, campaign_requests, probe_campaign_request, segment_requests
from engine.api.validation import response_wire
from engine.api.wire import campaign_arn, iso_timestamp, new_resource_id
from rules.models import CampaignResponse, WriteCampaignRequest
from topics.wire import ControlRecord, encode_json

__all__ = ["ACCESS_KEY", "CREDENTIALS", "Resources", "get_in_app_messages_load", "create_resources",
           "pinpoint_client"]

ACCESS_KEY = "AKIAINAPPBENCH000001"
SECRET_KEY = "bench-secret-not-a-real-one"
CREDENTIALS = f"{ACCESS_KEY}:{SECRET_KEY}"
REGION = "us-east-1"
# CreateCampaign / CreateSegment are throttled at 25/s per worker (engine/api/throttle.py)
CONTROL_WRITES_PER_SECOND = 24.0


def pinpoint_client(base_url: str) -> Any:
    return boto3.client(
        "pinpoint", endpoint_url=base_url, region_name=REGION, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(retries={"max_attempts": 10, "mode": "standard"}, read_timeout=60),
    )


@dataclass
class Resources:
    app_id: str
    segment_ids: list[str]
    campaign_ids: list[str]
    probe_campaign_id: str
    via_api: int  # campaigns created with CreateCampaign (the rest went to the control topic)
    api_seconds: float  # wall time of those CreateCampaign calls


def campaign_control_record(app_id: str, request: dict[str, Any]) -> tuple[str, ControlRecord]:
    """(key, record) exactly as CreateCampaign writes it to ``<prefix>campaigns``
    (engine/api/campaigns.py ``create_campaign``: no templates, no treatments, segment v1)."""
    parsed = WriteCampaignRequest.model_validate(request)
    campaign_id = new_resource_id()
    now = iso_timestamp(datetime.now(timezone.utc))
    campaign = response_wire(CampaignResponse, {
        "HoldoutPercent": 0, "IsPaused": False, **parsed.to_wire(), "ApplicationId": app_id,
        "Arn": campaign_arn(REGION, "000000000000", app_id, campaign_id), "CreationDate": now,
        "LastModifiedDate": now, "Id": campaign_id, "SegmentVersion": 1, "tags": parsed.tags or {}, "Version": 1,
    })
    return f"{app_id}/{campaign_id}", ControlRecord(Kind="campaign", Versions=[campaign])


def create_resources(client: Any, campaigns: int, event_types: int, seed: int, *, via_api: int,
                     bootstrap: str, prefix: str, on_progress: Callable[[int], None] | None = None) -> Resources:
    """App (+ app-wide caps), 20 segments and the probe campaign through the API (paced under
    its 25/s CreateSegment/CreateCampaign throttle); the first ``via_api`` campaigns through
    CreateCampaign too, the others straight to the control topic as the API's records."""
    app_id = client.create_app(CreateApplicationRequest={"Name": "bench-w1"})["ApplicationResponse"]["Id"]
    client.update_application_settings(ApplicationId=app_id, WriteApplicationSettingsRequest=app_settings_request())
    pace = _Pace(CONTROL_WRITES_PER_SECOND)
    segment_ids = []
    for request in segment_requests(seed):
        pace.wait()
        segment_ids.append(client.create_segment(ApplicationId=app_id, WriteSegmentRequest=request)
                           ["SegmentResponse"]["Id"])
    requests = list(campaign_requests(campaigns, event_types, segment_ids, seed))
    started = time.perf_counter()
    campaign_ids = []
    for n, request in enumerate(requests[:via_api], start=1):
        pace.wait()
        campaign_ids.append(client.create_campaign(ApplicationId=app_id, WriteCampaignRequest=request)
                            ["CampaignResponse"]["Id"])
        if on_progress:
            on_progress(n)
    api_seconds = time.perf_counter() - started
    records = [campaign_control_record(app_id, request) for request in requests[via_api:]]
    asyncio.run(publish(bootstrap, f"{prefix}campaigns",
                        [(key.encode(), encode_json(record)) for key, record in records]))
    campaign_ids += [key.split("/", 1)[1] for key, _ in records]
    pace.wait()
    # the API answers once its worker applied every control record before this one
    probe = client.create_campaign(ApplicationId=app_id, WriteCampaignRequest=probe_campaign_request(segment_ids[0]))
    listed = _count_campaigns(client, app_id)
    if listed != campaigns + 1:
        raise RuntimeError(f"the worker lists {listed} campaigns, expected {campaigns + 1}")
    if on_progress:
        on_progress(campaigns)
    return Resources(app_id, segment_ids, campaign_ids, probe["CampaignResponse"]["Id"], min(via_api, campaigns),
                     api_seconds)


def _count_campaigns(client: Any, app_id: str) -> int:
    count, token = 0, None
    while True:
        page = client.get_campaigns(ApplicationId=app_id, PageSize="1000", **({"Token": token} if token else {}))
        count += len(page["CampaignsResponse"]["Item"])
        token = page["CampaignsResponse"].get("NextToken")
        if not token:
            return count


class _Pace:
    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self.next = time.monotonic()

    def wait(self) -> None:
        now = time.monotonic()
        if now < self.next:
            time.sleep(self.next - now)
        self.next = max(now, self.next) + self.interval


def _signed(base_url: str, app_id: str, endpoint_id: str) -> tuple[URL, dict[str, str]]:
    url = f"{base_url}/v1/apps/{app_id}/endpoints/{endpoint_id}/inappmessages"
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "mobiletargeting", REGION).add_auth(request)
    return URL(url, encoded=True), {k: v for k, v in request.headers.items()}


async def get_in_app_messages_load(base_url: str, app_id: str, endpoint_ids: Sequence[str], *,
                                   clients: int = 8, seconds: float = 5.0, warmup: float = 1.0,
                                   on_progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """``clients`` concurrent keep-alive clients call GetInAppMessages for random endpoints
    for ``seconds`` (after ``warmup``); requests/s, latency percentiles, statuses."""
    signed = [_signed(base_url, app_id, eid) for eid in endpoint_ids]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    listed = 0
    loop = asyncio.get_running_loop()
    begin = loop.time()
    measure_from = begin + warmup
    stop_at = measure_from + seconds

    async def client(number: int, session: aiohttp.ClientSession) -> None:
        nonlocal listed
        i = number * 7919
        while True:
            url, headers = signed[i % len(signed)]
            i += 1
            started = loop.time()
            if started >= stop_at:
                return
            async with session.get(url, headers=headers) as response:
                body = await response.read()
            ended = loop.time()
            if started >= measure_from:
                latencies.append(ended - started)
                statuses[response.status] = statuses.get(response.status, 0) + 1
                if response.status == 200:
                    listed += body.count(b'"CampaignId"')
                if on_progress and len(latencies) % 200 == 0:
                    on_progress(len(latencies))

    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(n, session) for n in range(clients)))
    latencies.sort()
    ok = statuses.get(200, 0)
    return {
        "clients": clients,
        "seconds": seconds,
        "requests": len(latencies),
        "requests_per_s": len(latencies) / seconds,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "campaigns_listed_per_response": listed / ok if ok else 0.0,
        "latency_ms": percentiles(latencies, scale=1000.0),
        "signing": "botocore SigV4Auth, pre-signed before the window; aiohttp client",
    }


def percentiles(values: Sequence[float], scale: float = 1.0) -> dict[str, float]:
    """p50/p90/p99/max of sorted ``values`` (times ``scale``); empty → zeros."""
    if not values:
        return {"p50": 0.0, "p90": 0.0, "p99": 0.0, "max": 0.0, "n": 0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * scale, 2)

    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": round(ordered[-1] * scale, 2), "n": len(ordered)}
