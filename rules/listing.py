"""GetInAppMessages (PRODUCT.md semantics 8; reference §4.1, §9.2).

At most :data:`MAX_MESSAGES` eligible campaigns, in the winner order of semantics 1, with
the trigger *not* evaluated (the client matches it); eligibility is otherwise that of
:func:`rules.decide.decide` at ``now`` — the same :class:`EvaluationContext` checks —
and campaigns whose daily or total cap is exhausted are left out. ``DailyCap`` and
``TotalCap`` carry the remaining counts (``caps_report="remaining"``, the AWS blog) or the
configured values (``"configured"``, for clients that count on their own, like Amplify);
``SessionCap`` is always the configured value, as the session is the client's. 0 =
unlimited on the wire.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from rules.caps import EndpointCaps
from rules.context import EvaluationContext, endpoint_can_receive
from rules.index import CampaignIndex, CompiledArm
from rules.models.endpoint import Endpoint

__all__ = ["MAX_MESSAGES", "CapsReport", "in_app_messages", "in_app_messages_response"]

MAX_MESSAGES = 10  # the hard limit the AWS blog documents
CapsReport = Literal["remaining", "configured"]


def _entry(arm: CompiledArm, daily: int, total: int) -> dict[str, Any]:
    schedule: dict[str, Any] = {"EventFilter": arm.trigger.wire}
    if arm.end_date is not None:
        schedule["EndDate"] = arm.end_date
    if arm.quiet is not None:
        schedule["QuietTime"] = arm.quiet.to_wire()
    entry: dict[str, Any] = {
        "CampaignId": arm.campaign_id,
        "TreatmentId": arm.treatment_id,
        "SessionCap": arm.limits.session,
        "DailyCap": daily,
        "TotalCap": total,
        "Schedule": schedule,
        "InAppMessage": arm.in_app_message,
    }
    if arm.priority is not None:
        entry["Priority"] = arm.priority
    return entry


def in_app_messages(
    index: CampaignIndex,
    app_id: str,
    endpoint: Endpoint | None,
    caps: EndpointCaps | None,
    now: float | datetime,
    caps_report: CapsReport = "remaining",
    *,
    endpoint_id: str | None = None,
    limit: int = MAX_MESSAGES,
) -> list[dict[str, Any]]:
    """``InAppMessageCampaigns`` for one endpoint: a list of ``InAppMessageCampaign`` wire
    dicts (reference §4.1). ``endpoint_id`` defaults to ``endpoint.id`` (it seeds the
    treatment buckets, exactly as in :func:`rules.decide.decide`). Empty for an unknown app
    or an endpoint that cannot receive in-app messages."""
    if endpoint is None or not index.has_app(app_id) or not endpoint_can_receive(endpoint, app_id):
        return []
    key = endpoint_id if endpoint_id is not None else endpoint.id
    if key is None:
        raise ValueError("in_app_messages needs an endpoint id (endpoint.id or endpoint_id=)")
    at = now.timestamp() if isinstance(now, datetime) else float(now)
    context = EvaluationContext(endpoint, key, caps, at)
    listed: list[dict[str, Any]] = []
    seen: set[str] = set()
    for arm in index.arms(app_id):
        if len(listed) >= limit:
            break
        if arm.campaign_id in seen or not context.admits(arm):
            continue
        limits = arm.limits
        daily_used = context.daily_used(arm.campaign_id) if limits.daily else None
        if daily_used is not None and (daily_used < 0 or daily_used >= limits.daily):
            continue
        total_used = caps.total_count(arm.campaign_id) if limits.total and caps is not None else None
        if limits.total and total_used is None:
            total_used = 0
        if total_used is not None and total_used >= limits.total:
            continue
        seen.add(arm.campaign_id)
        if caps_report == "configured":
            listed.append(_entry(arm, limits.daily, limits.total))
        else:
            listed.append(_entry(
                arm,
                limits.daily - daily_used if daily_used is not None else 0,
                limits.total - total_used if total_used is not None else 0,
            ))
    return listed


def in_app_messages_response(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The GetInAppMessages body: ``{"InAppMessageCampaigns": [...]}`` (reference §2.1)."""
    return {"InAppMessageCampaigns": messages}
