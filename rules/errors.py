"""Errors of the pure core, split by when they happen (STYLE.md §6).

* :class:`DefinitionError` — a resource (campaign, segment, template, settings) cannot be
  used: a bad request body, or a campaign that cannot compile (unknown template, bad
  segment, bad date). Raised by validation helpers, collected in ``CampaignIndex.errors``.
* :class:`EventError` — an input event cannot be evaluated (PRODUCT.md "Input event");
  the engine sends it to ``inapp.dead-letter`` with the reason (PRODUCT.md semantics 10).

Behaviour lives in class attributes (``retriable``, ``phase``), never in message text.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import ValidationError

__all__ = [
    "DefinitionError",
    "EventError",
    "RulesError",
    "definition_error",
    "describe",
    "error_location",
    "event_error",
]


class RulesError(Exception):
    """Root of every error raised by ``rules``."""

    retriable: ClassVar[bool] = False
    phase: ClassVar[str] = "rules"

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        prefixed = not field or reason.startswith(f"{field}:")
        super().__init__(reason if prefixed else f"{field}: {reason}")


class DefinitionError(RulesError):
    """A resource definition is unusable (compile time, or a bad request body).

    ``resource_id`` names the resource the error is reported against (for compile errors
    the campaign that was left out of the index), ``kind`` its type.
    """

    phase: ClassVar[str] = "definition"

    def __init__(
        self, field: str, reason: str, *, resource_id: str | None = None, kind: str = "campaign"
    ) -> None:
        super().__init__(field, reason)
        self.resource_id = resource_id
        self.kind = kind

    @property
    def campaign_id(self) -> str | None:
        """The campaign left out of the index (``None`` for non-campaign resources)."""
        return self.resource_id if self.kind == "campaign" else None

    def __repr__(self) -> str:
        return (
            f"DefinitionError(kind={self.kind!r}, resource_id={self.resource_id!r}, "
            f"field={self.field!r}, reason={self.reason!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DefinitionError):
            return NotImplemented
        return (self.kind, self.resource_id, self.field, self.reason) == (
            other.kind,
            other.resource_id,
            other.field,
            other.reason,
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.resource_id, self.field, self.reason))


class EventError(RulesError):
    """An input event is malformed (run time); the engine dead-letters it."""

    phase: ClassVar[str] = "event"

    def __init__(self, field: str, reason: str, *, event_id: str | None = None) -> None:
        super().__init__(field, reason)
        self.event_id = event_id


def error_location(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as a wire path: ``Content[0].HeaderConfig.Header``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def _reason(message: str) -> str:
    # pydantic prefixes custom ValueError messages with "Value error, "; the reason reads
    # better without it.
    return message.removeprefix("Value error, ")


def describe(error: ValidationError) -> str:
    """``"Field.Path: reason"`` for every problem in a pydantic ``ValidationError``, joined by
    ``"; "`` — the text of a ``BadRequestException`` (reference §2.5: boto3 checks no enums
    or ranges, the server must)."""
    parts = []
    for item in error.errors(include_url=False):
        field = error_location(item["loc"])
        reason = _reason(item["msg"])
        parts.append(f"{field}: {reason}" if field else reason)
    return "; ".join(parts)


def _first(error: ValidationError) -> tuple[str, str]:
    items = error.errors(include_url=False)
    if not items:
        return "", str(error)
    return error_location(items[0]["loc"]), _reason(items[0]["msg"])


def definition_error(
    error: ValidationError, *, resource_id: str | None = None, kind: str = "campaign"
) -> DefinitionError:
    """Convert a model ``ValidationError`` into a :class:`DefinitionError`: ``field`` is the
    first failing path; ``reason`` its reason, or the full :func:`describe` text when
    several fields fail."""
    field, reason = _first(error)
    if error.error_count() > 1:
        reason = describe(error)
    return DefinitionError(field, reason, resource_id=resource_id, kind=kind)


def event_error(error: ValidationError, *, event_id: str | None = None) -> EventError:
    """Convert a ``ValidationError`` of an input event into an :class:`EventError`."""
    field, reason = _first(error)
    if error.error_count() > 1:
        reason = describe(error)
    return EventError(field, reason, event_id=event_id)
