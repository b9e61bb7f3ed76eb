"""Compile the control plane's records into the rules core's campaign index.

Resources are parsed into ``rules.models`` once per record version (cached by the record
object, which is immutable) so that recompiling after one change stays cheap.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from pydantic import ValidationError

from engine.control import ControlState
from rules.index import CampaignIndex, compile_index
from rules.models import (
    ApplicationResponse,
    ApplicationSettingsResource,
    CampaignResponse,
    InAppTemplateResponse,
    SegmentResponse,
)
from rules.models.base import WireModel
from topics.wire import ControlRecord

__all__ = ["compile_state", "ResourceParser"]

log = logging.getLogger(__name__)

M = TypeVar("M", bound=WireModel)


class ResourceParser:
    """Parses stored wire dicts into models, remembering the result per record object."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, str, int], tuple[ControlRecord, Any]] = {}
        self.rejected: list[tuple[str, str, str]] = []

    def parse(self, record: ControlRecord, model: type[M], data: dict[str, Any], slot: int = -1) -> M | None:
        cache_key = (id(record), model.__name__, slot)
        hit = self._cache.get(cache_key)
        if hit is not None and hit[0] is record:
            return hit[1]  # type: ignore[no-any-return]
        try:
            parsed = model.model_validate(data)
        except ValidationError as exc:
            self.rejected.append((model.__name__, str(data.get("Id") or data.get("TemplateName")), str(exc)))
            parsed = None
        self._cache[cache_key] = (record, parsed)
        return parsed

    def forget_missing(self, live: set[int]) -> None:
        for key in [k for k in self._cache if k[0] not in live]:
            del self._cache[key]


_PARSER = ResourceParser()


def compile_state(state: ControlState, parser: ResourceParser = _PARSER) -> CampaignIndex:
    """The campaign index of the current control state (PRODUCT.md; rules.index)."""
    apps: dict[str, ApplicationResponse] = {}
    settings: dict[str, ApplicationSettingsResource] = {}
    for app_id, record in state.records["app"].items():
        app = parser.parse(record, ApplicationResponse, record.current)
        if app is None:
            continue
        apps[app_id] = app
        if record.Settings:
            parsed = parser.parse(record, ApplicationSettingsResource, record.Settings, slot=-2)
            if parsed is not None:
                settings[app_id] = parsed

    segments: dict[str, SegmentResponse] = {}
    segment_versions: dict[tuple[str, int], SegmentResponse] = {}
    for record in state.records["segment"].values():
        for slot, data in enumerate(record.Versions):
            segment = parser.parse(record, SegmentResponse, data, slot)
            if segment is None:
                continue
            segment_versions[(segment.id, segment.version or slot + 1)] = segment
            if slot == len(record.Versions) - 1:
                segments[segment.id] = segment

    templates: dict[str, InAppTemplateResponse] = {}
    template_versions: dict[tuple[str, str], InAppTemplateResponse] = {}
    for name, record in state.records["template"].items():
        active = str(record.ActiveVersion) if record.ActiveVersion is not None else None
        for slot, data in enumerate(record.Versions):
            template = parser.parse(record, InAppTemplateResponse, data, slot)
            if template is None:
                continue
            version = template.version or str(slot + 1)
            template_versions[(name, version)] = template
            if active == version or (active is None and slot == len(record.Versions) - 1):
                templates[name] = template

    campaigns: dict[str, CampaignResponse] = {}
    for record in state.records["campaign"].values():
        campaign = parser.parse(record, CampaignResponse, record.current)
        if campaign is not None and campaign.application_id in apps:
            campaigns[campaign.id] = campaign

    parser.forget_missing({id(r) for kind in state.records.values() for r in kind.values()})
    index = compile_index(
        apps, settings, segments, templates, campaigns,
        segment_versions=segment_versions, template_versions=template_versions,
    )
    return index


