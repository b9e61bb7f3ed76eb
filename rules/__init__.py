"""The pure in-app decision core (PRODUCT.md layers; docs/architecture.md).

Plain Python over pydantic models and frozen dataclasses: no I/O, no event loop, no Kafka.
Compile stored resources once with :func:`compile_index`; per event call
``rules.decide.decide`` then :func:`record_decision` (or :func:`record_engagement` for
``_inapp.*`` events); per GetInAppMessages call :func:`in_app_messages`.

``rules.decide`` stays the *module* (as docs/architecture.md spells it,
``rules.decide.decide(...)``); the function is not re-exported under the same name.
"""

from rules.caps import (
    EndpointCaps,
    Engagement,
    SourcePosition,
    classify_engagement,
    record_decision,
    record_engagement,
)
from rules.clock import DEFAULT_MAX_SKEW_SECONDS, effective_instant
from rules import decide
from rules.decide import Decision, Remaining, decision_id_for, display_decision
from rules.errors import DefinitionError, EventError, RulesError, describe
from rules.index import CampaignIndex, CapLimits, CompiledArm, compile_index, effective_limits
from rules.listing import MAX_MESSAGES, in_app_messages, in_app_messages_response
from rules.metrics import CampaignDelta, decision_deltas, engagement_deltas
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
    "DEFAULT_MAX_SKEW_SECONDS",
    "MAX_MESSAGES",
    "AppEvent",
    "Application",
    "ApplicationSettings",
    "Campaign",
    "CampaignDelta",
    "CampaignIndex",
    "CapLimits",
    "CompiledArm",
    "Decision",
    "DefinitionError",
    "Endpoint",
    "EndpointCaps",
    "Engagement",
    "EventError",
    "InAppTemplate",
    "Remaining",
    "RulesError",
    "Segment",
    "SourcePosition",
    "classify_engagement",
    "compile_index",
    "decide",
    "decision_deltas",
    "decision_id_for",
    "decode_app_event",
    "describe",
    "display_decision",
    "effective_instant",
    "effective_limits",
    "engagement_deltas",
    "in_app_messages",
    "in_app_messages_response",
    "parse_resource",
    "record_decision",
    "record_engagement",
]
