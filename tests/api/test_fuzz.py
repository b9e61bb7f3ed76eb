"""Property: validly signed garbage never makes the API answer 5xx.

Hypothesis builds requests on every route (and some that exist on none) with random path
labels, query parameters and bodies — random JSON, JSON shaped like the real payloads with
wrong types and values, and random bytes — signs each with botocore's signer and sends it
as raw HTTP. Every answer must be < 500, carry ``x-amzn-RequestId``, and every error must be a
Pinpoint error shape.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, urlencode

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.harness import RunningApi, serve_api
from tests.api.memory_backend import InMemoryBackend
from tests.api.samples import campaign_request, segment_request, template_request

ROUTES = [
    ("POST", "/v1/apps"),
    ("GET", "/v1/apps"),
    ("GET", "/v1/apps/{app}"),
    ("DELETE", "/v1/apps/{app}"),
    ("GET", "/v1/apps/{app}/settings"),
    ("PUT", "/v1/apps/{app}/settings"),
    ("PUT", "/v1/apps/{app}/endpoints"),
    ("PUT", "/v1/apps/{app}/endpoints/{x}"),
    ("GET", "/v1/apps/{app}/endpoints/{x}"),
    ("DELETE", "/v1/apps/{app}/endpoints/{x}"),
    ("GET", "/v1/apps/{app}/endpoints/{x}/inappmessages"),
    ("POST", "/v1/apps/{app}/events"),
    ("POST", "/v1/apps/{app}/segments"),
    ("GET", "/v1/apps/{app}/segments"),
    ("GET", "/v1/apps/{app}/segments/{segment}"),
    ("PUT", "/v1/apps/{app}/segments/{segment}"),
    ("DELETE", "/v1/apps/{app}/segments/{segment}"),
    ("GET", "/v1/apps/{app}/segments/{segment}/versions"),
    ("GET", "/v1/apps/{app}/segments/{segment}/versions/{x}"),
    ("POST", "/v1/apps/{app}/campaigns"),
    ("GET", "/v1/apps/{app}/campaigns"),
    ("GET", "/v1/apps/{app}/campaigns/{campaign}"),
    ("PUT", "/v1/apps/{app}/campaigns/{campaign}"),
    ("DELETE", "/v1/apps/{app}/campaigns/{campaign}"),
    ("GET", "/v1/apps/{app}/campaigns/{campaign}/versions"),
    ("GET", "/v1/apps/{app}/campaigns/{campaign}/versions/{x}"),
    ("GET", "/v1/apps/{app}/campaigns/{campaign}/kpis/daterange/{x}"),
    ("GET", "/v1/templates"),
    ("POST", "/v1/templates/{template}/inapp"),
    ("GET", "/v1/templates/{template}/inapp"),
    ("PUT", "/v1/templates/{template}/inapp"),
    ("DELETE", "/v1/templates/{template}/inapp"),
    ("GET", "/v1/templates/{template}/{x}/versions"),
    ("PUT", "/v1/templates/{template}/{x}/active-version"),
    ("PATCH", "/v1/apps/{app}"),
    ("GET", "/v1/{x}"),
]
QUERY_NAMES = ["page-size", "token", "next-token", "version", "create-new-version", "start-time", "end-time", "prefix", "template-type"]

json_scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
label = st.text(min_size=0, max_size=40) | st.sampled_from(["inapp", "INAPP", "1", "2", "0", "-1", "inapp-displays", "%", "..", "."])


def _shaped(resource_ids: dict[str, str]) -> st.SearchStrategy[Any]:
    """Real payloads, half of them with one member replaced by a random JSON value."""
    samples = [
        {"Name": "x", "tags": {"a": "b"}},
        segment_request(),
        template_request(),
        campaign_request(resource_ids["segment"]),
        {"Limits": {"Daily": 1}, "QuietTime": {"Start": "22:00", "End": "07:00"}},
        {"ChannelType": "IN_APP", "Attributes": {"a": ["b"]}, "User": {"UserId": "u"}},
        {"Item": [{"Id": "e", "ChannelType": "IN_APP"}]},
        {"BatchItem": {"e": {"Endpoint": {}, "Events": {"v": {"EventType": "t", "Timestamp": "2026-01-01T00:00:00Z"}}}}},
        {"Version": "1"},
    ]

    @st.composite
    def mutate(draw: st.DrawFn) -> Any:
        sample = dict(draw(st.sampled_from(samples)))
        if sample and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(sample)))
            sample[key] = draw(json_values)
        return sample

    return mutate()


@pytest.fixture(scope="module")
def fuzz_api() -> Iterator[tuple[RunningApi, dict[str, str], Callable[[], None]]]:
    with serve_api(InMemoryBackend(), rates={}) as api:
        client = api.client()
        app = client.create_app(CreateApplicationRequest={"Name": "fuzz"})["ApplicationResponse"]["Id"]
        segment = client.create_segment(ApplicationId=app, WriteSegmentRequest=segment_request())["SegmentResponse"]["Id"]
        campaign = client.create_campaign(ApplicationId=app, WriteCampaignRequest=campaign_request(segment))["CampaignResponse"]["Id"]
        client.create_in_app_template(TemplateName="fuzz", InAppTemplateRequest=template_request())
        client.update_endpoint(ApplicationId=app, EndpointId="ep", EndpointRequest={"ChannelType": "IN_APP"})
        backend = api.backend
        snapshot = (copy.deepcopy(backend.records), copy.deepcopy(backend.endpoints))
        ids = {"app": app, "segment": segment, "campaign": campaign, "template": "fuzz"}

        def reset() -> None:  # every example starts from the same resources
            backend.records, backend.endpoints = copy.deepcopy(snapshot[0]), copy.deepcopy(snapshot[1])

        yield api, ids, reset


@st.composite
def requests(draw: st.DrawFn, ids: dict[str, str]) -> tuple[str, str, bytes]:
    method, template = draw(st.sampled_from(ROUTES))
    values = {}
    for name in ("app", "segment", "campaign", "template", "x"):
        known = ids.get(name, "ep")
        # mostly ids that exist, so requests get past the 404s into validation and handlers
        values[name] = known if draw(st.integers(0, 3)) else draw(label)
    path = template
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(value, safe="") or "%20")
    query = draw(st.dictionaries(st.sampled_from(QUERY_NAMES), st.text(max_size=20) | st.sampled_from(["1", "true", "2026-01-01T00:00:00Z", "abc"]), max_size=3))
    if query:
        path += "?" + urlencode(sorted(query.items()), quote_via=quote)
    body = draw(
        st.sampled_from([b""])
        | json_values.map(_dumps)
        | _shaped(ids).map(_dumps)
        | _shaped(ids).map(_dumps)
        | st.binary(max_size=64)
    )
    return method, path, body


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()  # stdlib: integers beyond 64 bits too


def _check(answer: Any) -> None:
    assert answer.status < 500, (answer.status, answer.body[:300])
    assert "x-amzn-requestid" in answer.headers
    if answer.status >= 400:
        assert answer.headers.get("x-amzn-errortype", "").endswith("Exception")
        assert set(orjson.loads(answer.body)) == {"Message", "RequestID"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_signed_garbage_never_gets_a_5xx(
    fuzz_api: tuple[RunningApi, dict[str, str], Callable[[], None]], data: st.DataObject
) -> None:
    api, ids, reset = fuzz_api
    reset()
    method, path, body = data.draw(requests(ids))
    _check(api.raw(method, path, body, {"Content-Type": "application/json"}))
