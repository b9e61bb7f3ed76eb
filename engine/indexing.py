"""Compile the control plane's records into the rules core's campaign index.

Resources are parsed into ``rules.models`` once per record version (cached by the record
object, which is immutable) so that recompiling after one change stays cheap.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

from engine.control import ControlState
from rules.errors import describe
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

__all__ = ["Compiled", "ResourceProblem", "ResourceParser", "compile_state"]

log = logging.getLogger(__name__)

M = TypeVar("M", bound=WireModel)


@dataclass(frozen=True)
class ResourceProblem:
    """A stored resource the index had to leave out, and why (for the dead-letter topic)."""

    kind: str
    key: str
    record: ControlRecord
    field: str
    reason: str


@dataclass(frozen=True)
class Compiled:
    """The index, and the resources left out of it."""

    index: CampaignIndex
    problems: tuple[ResourceProblem, ...]


class ResourceParser:
    """Parses stored wire dicts into models, remembering the result per record object."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, str, int], tuple[ControlRecord, Any, str | None]] = {}

    def parse(
        self, record: ControlRecord, model: type[M], data: dict[str, Any], slot: int = -1
    ) -> tuple[M | None, str | None]:
        """(model, None), or (None, "Field.Path: reason") when the data does not validate."""
        cache_key = (id(record), model.__name__, slot)
        hit = self._cache.get(cache_key)
        if hit is not None and hit[0] is record:
            return hit[1], hit[2]
        parsed, problem = None, None
        try:
            parsed = model.model_validate(data)
        except ValidationError as exc:
            problem = describe(exc)
        self._cache[cache_key] = (record, parsed, problem)
        return parsed, problem

    def forget_missing(self, live: set[int]) -> None:
        for key in [k for k in self._cache if k[0] not in live]:
            del self._cache[key]


_PARSER = ResourceParser()


def compile_state(state: ControlState, parser: ResourceParser = _PARSER) -> Compiled:
    """The campaign index of the current control state (PRODUCT.md; rules.index), and the
    resources it had to leave out (invalid records, campaigns that cannot compile)."""
    problems: list[ResourceProblem] = []

    def parse(kind: str, key: str, record: ControlRecord, model: type[M], data: dict[str, Any],
              slot: int = -1) -> M | None:
        parsed, problem = parser.parse(record, model, data, slot)
        if problem is not None:
            field, _, reason = problem.partition(": ")
            problems.append(ResourceProblem(kind, key, record, field if reason else "", reason or problem))
        return parsed

    apps: dict[str, ApplicationResponse] = {}
    settings: dict[str, ApplicationSettingsResource] = {}
    for app_id, record in state.records["app"].items():
        app = parse("app", app_id, record, ApplicationResponse, record.current)
        if app is None:
            continue
        apps[app_id] = app
        if record.Settings:
            parsed = parse("app", app_id, record, ApplicationSettingsResource, record.Settings, slot=-2)
            if parsed is not None:
                settings[app_id] = parsed

    segments: dict[str, SegmentResponse] = {}
    segment_versions: dict[tuple[str, int], SegmentResponse] = {}
    for key, record in state.records["segment"].items():
        for slot, data in enumerate(record.Versions):
            segment = parse("segment", key, record, SegmentResponse, data, slot)
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
            template = parse("template", name, record, InAppTemplateResponse, data, slot)
            if template is None:
                continue
            version = template.version or str(slot + 1)
            template_versions[(name, version)] = template
            if active == version or (active is None and slot == len(record.Versions) - 1):
                templates[name] = template

    campaigns: dict[str, CampaignResponse] = {}
    campaign_keys: dict[str, tuple[str, ControlRecord]] = {}
    for key, record in state.records["campaign"].items():
        campaign = parse("campaign", key, record, CampaignResponse, record.current)
        if campaign is not None and campaign.application_id in apps:
            campaigns[campaign.id] = campaign
            campaign_keys[campaign.id] = (key, record)

    parser.forget_missing({id(r) for kind in state.records.values() for r in kind.values()})
    index = compile_index(
        apps, settings, segments, templates, campaigns,
        segment_versions=segment_versions, template_versions=template_versions,
    )
    for error in index.errors:
        found = campaign_keys.get(error.resource_id or "")
        if found is not None:
            problems.append(ResourceProblem("campaign", found[0], found[1], error.field, error.reason))
    return Compiled(index, tuple(problems))


