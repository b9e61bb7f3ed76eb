"""The compiled campaign index (STYLE.md §3; docs/architecture.md).

Built by :func:`compile_index` whenever campaigns, segments, templates or settings change,
then swapped atomically by the caller; never mutated. Each live in-app campaign becomes one
:class:`CompiledArm` per treatment (the default treatment "0" and each additional one),
with its trigger, segment predicate, window, quiet time, caps and resolved content. Arms
are bucketed by app, then by the event names that can trigger them; EXCLUSIVE triggers are
kept apart and merged in per name at compile time, so :meth:`CampaignIndex.candidates` is
one dictionary lookup and returns arms already in winner order (PRODUCT.md semantics 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from rules.caps import ENGAGEMENT_EVENT_TYPES
from rules.content import TemplateCatalog, carries_in_app
from rules.errors import DefinitionError
from rules.models.app import ApplicationResponse, ApplicationSettingsResource
from rules.models.campaign import CampaignLimits, CampaignResponse, Schedule
from rules.models.message import InAppTemplateResponse, MessageConfiguration, TemplateConfiguration
from rules.models.segment import SegmentResponse
from rules.predicates import EventFilter, Interner
from rules.schedule import (
    CompiledWindow,
    QuietWindow,
    bucket_key,
    compile_quiet_time,
    compile_window,
)
from rules.segments import SegmentCompiler, SegmentPredicate
from rules.trigger import CompiledTrigger, compile_trigger

__all__ = ["AppIndex", "CampaignIndex", "CapLimits", "CompiledArm", "compile_index", "effective_limits"]

_NO_ARMS: tuple[CompiledArm, ...] = ()
_SKIPPED_STATUSES = frozenset({"DELETED", "INVALID"})


@dataclass(frozen=True, slots=True)
class CapLimits:
    """Effective caps of a campaign; 0 = unlimited (PRODUCT.md semantics 4)."""

    session: int = 0
    daily: int = 0
    total: int = 0


def effective_limits(own: CampaignLimits | None, default: CampaignLimits | None) -> CapLimits:
    """Each of Session/Daily/Total from the campaign's ``Limits`` when set (an explicit 0
    means unlimited), else from the app's ``ApplicationSettings.Limits``, else 0
    (PRODUCT.md semantics 4; reference §5.2)."""

    def pick(name: str) -> int:
        for limits in (own, default):
            value = getattr(limits, name) if limits is not None else None
            if value is not None:
                return int(value)
        return 0

    return CapLimits(session=pick("session"), daily=pick("daily"), total=pick("total"))


@dataclass(frozen=True, slots=True, eq=False)
class CompiledArm:
    """One treatment of one live in-app campaign, ready to evaluate.

    An endpoint is in this arm iff ``bucket_low <= bucket_of(bucket_key, endpoint) <
    bucket_high`` (PRODUCT.md semantics 6). ``order`` is the winner order: priority
    (absent = last), start, campaign id (semantics 1). ``in_app_message`` is a shared wire
    dict: never mutate it.
    """

    campaign_id: str
    application_id: str
    treatment_id: str
    priority: int | None
    order: tuple[float, float, str, str]
    window: CompiledWindow
    trigger: CompiledTrigger
    bucket_key: int
    bucket_low: int
    bucket_high: int
    segment: SegmentPredicate
    quiet: QuietWindow | None
    limits: CapLimits
    in_app_message: dict[str, Any]
    end_date: str | None
    # copies, one attribute hop closer for the hot loop: trigger.filters (None = no
    # filters) and the window bounds
    filters: EventFilter | None = field(default=None, init=False)
    start: float = field(default=0.0, init=False)
    end: float = field(default=0.0, init=False)
    local_window: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "filters", self.trigger.filters)
        object.__setattr__(self, "start", self.window.start)
        object.__setattr__(self, "end", self.window.end)
        object.__setattr__(self, "local_window", self.window.local)


@dataclass(frozen=True, slots=True)
class AppIndex:
    """The arms of one app: all of them in winner order, and per triggering event name."""

    application_id: str
    arms: tuple[CompiledArm, ...]
    by_event_type: Mapping[str, tuple[CompiledArm, ...]]
    # arms of EXCLUSIVE triggers: what any event name not in by_event_type can trigger
    other_event_types: tuple[CompiledArm, ...]


@dataclass(frozen=True)
class CampaignIndex:
    """Immutable compiled index. ``errors`` lists the campaigns left out, with the reason."""

    apps: Mapping[str, AppIndex]
    errors: tuple[DefinitionError, ...] = ()
    errors_by_app: Mapping[str, tuple[DefinitionError, ...]] = field(default_factory=dict)
    _by_campaign: Mapping[str, tuple[CompiledArm, ...]] = field(default_factory=dict)

    def has_app(self, application_id: str) -> bool:
        return application_id in self.apps

    def candidates(self, application_id: str, event_type: str) -> tuple[CompiledArm, ...]:
        """The arms an event of this type can trigger, in winner order — and only those."""
        app = self.apps.get(application_id)
        if app is None:
            return _NO_ARMS
        return app.by_event_type.get(event_type, app.other_event_types)

    def arms(self, application_id: str) -> tuple[CompiledArm, ...]:
        """Every arm of an app, in winner order (GetInAppMessages, semantics 8)."""
        app = self.apps.get(application_id)
        return app.arms if app is not None else _NO_ARMS

    def arm(self, campaign_id: str, treatment_id: str) -> CompiledArm | None:
        for arm in self._by_campaign.get(campaign_id, _NO_ARMS):
            if arm.treatment_id == treatment_id:
                return arm
        return None

    def campaign_ids(self) -> frozenset[str]:
        """Ids of the campaigns in the index (live, in-app, compiled)."""
        return frozenset(self._by_campaign)


@dataclass
class _Compiler:
    apps: Mapping[str, ApplicationResponse]
    settings: Mapping[str, ApplicationSettingsResource]
    segments: SegmentCompiler
    templates: TemplateCatalog
    interner: Interner

    def campaign(self, campaign: CampaignResponse) -> list[CompiledArm]:
        status = campaign.state.campaign_status if campaign.state else None
        if campaign.is_paused or status in _SKIPPED_STATUSES:
            return []
        treatments = campaign.additional_treatments or []
        if not carries_in_app(campaign.message_configuration, campaign.template_configuration) and not any(
            carries_in_app(t.message_configuration, t.template_configuration) for t in treatments
        ):
            return []  # not an in-app campaign: nothing to do for this channel
        app_id = campaign.application_id
        if app_id not in self.apps:
            raise DefinitionError("ApplicationId", f"application {app_id!r} does not exist")
        settings = self.settings.get(app_id)
        segment = self.segments.compile(campaign.segment_id, campaign.segment_version, app_id)
        limits = effective_limits(campaign.limits, settings.limits if settings else None)
        default_content = self._content(campaign.message_configuration, campaign.template_configuration, "")
        key = bucket_key(campaign.id)
        holdout = campaign.holdout_percent or 0
        shares = [100 - holdout - sum(t.size_percent for t in treatments)]
        shares += [t.size_percent for t in treatments]
        arms: list[CompiledArm] = []
        low = holdout
        for position, share in enumerate(shares):
            treatment = treatments[position - 1] if position else None
            prefix = f"AdditionalTreatments[{position - 1}]." if treatment else ""
            if share > 0:
                content = default_content
                if treatment is not None:
                    own = self._content(treatment.message_configuration, treatment.template_configuration, prefix)
                    content = own if own is not None else default_content
                if content is None:
                    raise DefinitionError(
                        f"{prefix}MessageConfiguration.InAppMessage.Content", "an in-app campaign needs content"
                    )
                schedule = treatment.schedule if treatment and treatment.schedule else campaign.schedule
                field_name = f"{prefix}Schedule" if treatment and treatment.schedule else "Schedule"
                arms.append(
                    self._arm(campaign, treatment.id if treatment else "0", schedule, field_name,
                              content, key, low, low + share, segment, limits, settings)
                )
            low += share
        return arms

    def _content(
        self, message: MessageConfiguration | None, template: TemplateConfiguration | None, prefix: str
    ) -> dict[str, Any] | None:
        return self.templates.content_of(message, template, prefix)

    def _arm(
        self,
        campaign: CampaignResponse,
        treatment_id: str,
        schedule: Schedule | None,
        field_name: str,
        content: dict[str, Any],
        key: int,
        low: int,
        high: int,
        segment: SegmentPredicate,
        limits: CapLimits,
        settings: ApplicationSettingsResource | None,
    ) -> CompiledArm:
        if schedule is None:
            raise DefinitionError(field_name, "an in-app campaign needs a Schedule")
        if schedule.frequency != "IN_APP_EVENT":
            raise DefinitionError(f"{field_name}.Frequency", "in-app campaigns use IN_APP_EVENT")
        window = compile_window(schedule, campaign.creation_date, field_name)
        trigger = compile_trigger(schedule.event_filter, self.interner, f"{field_name}.EventFilter")
        quiet = compile_quiet_time(
            schedule.quiet_time, settings.quiet_time if settings else None, f"{field_name}.QuietTime"
        )
        priority = campaign.priority
        return CompiledArm(
            campaign_id=campaign.id,
            application_id=campaign.application_id,
            treatment_id=treatment_id,
            priority=priority,
            order=(float("inf") if priority is None else float(priority), window.start, campaign.id, treatment_id),
            window=window,
            trigger=trigger,
            bucket_key=key,
            bucket_low=low,
            bucket_high=high,
            segment=segment,
            quiet=quiet,
            limits=limits,
            in_app_message=content,
            end_date=schedule.end_time,
        )


def _app_index(application_id: str, arms: list[CompiledArm]) -> AppIndex:
    ordered = tuple(sorted(arms, key=lambda arm: arm.order))
    inclusive: dict[str, list[CompiledArm]] = {}
    exclusive: list[CompiledArm] = []
    for arm in ordered:
        if arm.trigger.exclusive:
            exclusive.append(arm)
        else:
            for name in arm.trigger.event_types:
                inclusive.setdefault(name, []).append(arm)
    names = set(inclusive).union(*(arm.trigger.event_types for arm in exclusive), ENGAGEMENT_EVENT_TYPES)
    by_type = {}
    for name in names:
        merged = inclusive.get(name, [])
        if name not in ENGAGEMENT_EVENT_TYPES:
            # an EXCLUSIVE trigger never fires on the _inapp.* interaction events: each display
            # would otherwise trigger the next one; naming them (INCLUSIVE) still works
            merged = merged + [arm for arm in exclusive if name not in arm.trigger.event_types]
        by_type[name] = tuple(sorted(merged, key=lambda arm: arm.order))
    return AppIndex(application_id, ordered, MappingProxyType(by_type), tuple(exclusive))


def compile_index(
    apps: Mapping[str, ApplicationResponse],
    settings: Mapping[str, ApplicationSettingsResource],
    segments: Mapping[str, SegmentResponse],
    templates: Mapping[str, InAppTemplateResponse],
    campaigns: Mapping[str, CampaignResponse],
    *,
    segment_versions: Mapping[tuple[str, int], SegmentResponse] | None = None,
    template_versions: Mapping[tuple[str, str], InAppTemplateResponse] | None = None,
) -> CampaignIndex:
    """Compile stored resources into an immutable :class:`CampaignIndex`.

    ``apps`` and ``settings`` are keyed by application id, ``segments`` by segment id
    (latest version), ``templates`` by name (active version), ``campaigns`` by campaign id
    (latest version). Pinned older versions come from ``segment_versions[(id, version)]``
    and ``template_versions[(name, version)]``. Paused, deleted and non-in-app campaigns
    are left out silently; a campaign that cannot compile is left out and reported in
    ``errors`` — compile never raises because of one bad campaign.
    """
    interner = Interner()
    compiler = _Compiler(
        apps=apps,
        settings=settings,
        segments=SegmentCompiler(segments, segment_versions or {}, interner),
        templates=TemplateCatalog(templates, template_versions or {}),
        interner=interner,
    )
    arms_by_app: dict[str, list[CompiledArm]] = {app_id: [] for app_id in apps}
    by_campaign: dict[str, tuple[CompiledArm, ...]] = {}
    errors: list[DefinitionError] = []
    errors_by_app: dict[str, list[DefinitionError]] = {}
    for campaign_id in sorted(campaigns):
        campaign = campaigns[campaign_id]
        try:
            arms = compiler.campaign(campaign)
        except DefinitionError as exc:
            error = DefinitionError(exc.field, exc.reason, resource_id=campaign.id, kind="campaign")
        except Exception as exc:  # one bad campaign must never stop the whole index
            error = DefinitionError("", f"cannot compile: {exc!r}", resource_id=campaign.id)
        else:
            if arms:
                by_campaign[campaign.id] = tuple(arms)
                arms_by_app[campaign.application_id].extend(arms)
            continue
        errors.append(error)
        errors_by_app.setdefault(campaign.application_id, []).append(error)
    return CampaignIndex(
        apps=MappingProxyType({app_id: _app_index(app_id, arms) for app_id, arms in arms_by_app.items()}),
        errors=tuple(errors),
        errors_by_app=MappingProxyType({app: tuple(errs) for app, errs in errors_by_app.items()}),
        _by_campaign=MappingProxyType(by_campaign),
    )
