"""Request bodies as boto3 users write them (reference §8.1, §14)."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def in_days(days: float) -> str:
    return iso(datetime.now(timezone.utc) + timedelta(days=days))


CONTENT = [
    {
        "BackgroundColor": "#000000",
        "HeaderConfig": {"Alignment": "CENTER", "Header": "Welcome!", "TextColor": "#FFFFFF"},
        "BodyConfig": {"Alignment": "CENTER", "Body": "Hello", "TextColor": "#FFFFFF"},
        "PrimaryBtn": {
            "DefaultConfig": {"ButtonAction": "CLOSE", "Text": "OK"},
            "Web": {"ButtonAction": "LINK", "Link": "https://example.com"},
        },
    }
]


def segment_request(name: str = "in-app users") -> dict[str, Any]:
    return {
        "Name": name,
        "Dimensions": {"Demographic": {"Channel": {"DimensionType": "INCLUSIVE", "Values": ["IN_APP"]}}},
        "tags": {"team": "growth"},
    }


def template_request(header: str = "Welcome!") -> dict[str, Any]:
    content = copy.deepcopy(CONTENT)
    content[0]["HeaderConfig"]["Header"] = header
    return {
        "Layout": "TOP_BANNER",
        "Content": content,
        "CustomConfig": {"PromoCode": "12345"},
        "TemplateDescription": "welcome banner",
        "tags": {"team": "growth"},
    }


def campaign_request(segment_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Name": "welcome-banner",
        "SegmentId": segment_id,
        "Priority": 3,
        "Limits": {"Session": 1, "Daily": 0, "Total": 0},
        "Schedule": {
            "StartTime": in_days(-1),
            "EndTime": in_days(30),
            "Frequency": "IN_APP_EVENT",
            "EventFilter": {
                "FilterType": "ENDPOINT",
                "Dimensions": {
                    "EventType": {"DimensionType": "INCLUSIVE", "Values": ["my_first_event"]},
                    "Attributes": {"item": {"AttributeType": "INCLUSIVE", "Values": ["gloves"]}},
                    "Metrics": {"price": {"ComparisonOperator": "GREATER_THAN_OR_EQUAL", "Value": 10}},
                },
            },
            "QuietTime": {"Start": "22:00", "End": "07:00"},
        },
        "MessageConfiguration": {
            "InAppMessage": {"Layout": "TOP_BANNER", "Content": copy.deepcopy(CONTENT), "CustomConfig": {"PromoCode": "12345"}}
        },
        "tags": {"team": "growth"},
    }
    body.update(changes)
    return body


def event(event_type: str = "my_first_event", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "EventType": event_type,
        "Timestamp": in_days(0),
        "Attributes": {"item": "gloves"},
        "Metrics": {"price": 12.0},
        "Session": {"Id": "s-1", "StartTimestamp": in_days(0)},
    }
    body.update(extra)
    return body
