"""The pure in-app decision core (PRODUCT.md layers; docs/architecture.md).

Plain Python over pydantic models and frozen dataclasses: no I/O, no event loop, no Kafka.
"""

from rules.errors import DefinitionError, EventError, RulesError, describe
from rules.models import (
    AppEvent,
    Application,
    ApplicationSettings,
    Campaign,
    Endpoint,
    InAppTemplate,
    Segment,
    decode_app_event,
    parse_resource,
)

__all__ = [
    "AppEvent",
    "Application",
    "ApplicationSettings",
    "Campaign",
    "DefinitionError",
    "Endpoint",
    "EventError",
    "InAppTemplate",
    "RulesError",
    "Segment",
    "decode_app_event",
    "describe",
    "parse_resource",
]
