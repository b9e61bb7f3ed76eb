"""Content resolution at compile time (reference §8.5, §12).

The delivered ``InAppMessage`` is, in order: the treatment's
``MessageConfiguration.InAppMessage`` when it has content; else the treatment's
``TemplateConfiguration.InAppTemplate`` (explicit ``Version``, else the active version);
else the same two on the campaign. ``CampaignInAppMessage.Body`` is never delivered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules.errors import DefinitionError
from rules.models.message import (
    CampaignInAppMessage,
    InAppMessageContent,
    InAppTemplateResponse,
    MessageConfiguration,
    TemplateConfiguration,
)

__all__ = ["TemplateCatalog", "carries_in_app", "message_wire"]


def carries_in_app(message: MessageConfiguration | None, template: TemplateConfiguration | None) -> bool:
    """Whether a campaign or treatment carries in-app content (reference §8.1)."""
    return (message is not None and message.in_app_message is not None) or (
        template is not None and template.in_app_template is not None
    )


def message_wire(
    layout: str | None, content: list[InAppMessageContent] | None, custom: Mapping[str, str] | None
) -> dict[str, Any]:
    """The ``InAppMessage`` wire dict (reference §4.1): ``Content`` and ``CustomConfig``
    always present (Amplify reads both), ``Layout`` when set."""
    wire: dict[str, Any] = {
        "Content": [item.to_wire() for item in content or ()],
        "CustomConfig": dict(custom or {}),
    }
    if layout is not None:
        wire["Layout"] = layout
    return wire


class TemplateCatalog:
    """In-app templates by name (active version) and by ``(name, version)``."""

    def __init__(
        self,
        active: Mapping[str, InAppTemplateResponse],
        versions: Mapping[tuple[str, str], InAppTemplateResponse],
    ) -> None:
        self._active = active
        self._versions = versions
        self._cache: dict[tuple[str, str | None], dict[str, Any]] = {}

    def resolve(self, name: str | None, version: str | None, field: str) -> dict[str, Any]:
        if not name:
            raise DefinitionError(f"{field}.Name", "an in-app template reference needs a Name")
        cached = self._cache.get((name, version))
        if cached is not None:
            return cached
        template = self._active.get(name)
        if template is None:
            raise DefinitionError(f"{field}.Name", f"no in-app template named {name!r}")
        if version is not None and version != template.version:
            template = self._versions.get((name, version))
            if template is None:
                raise DefinitionError(f"{field}.Version", f"template {name!r} has no version {version!r}")
        if template.template_type != "INAPP":
            raise DefinitionError(f"{field}.Name", f"template {name!r} is not an INAPP template")
        if not template.content:
            raise DefinitionError(f"{field}.Name", f"template {name!r} has no Content")
        wire = message_wire(template.layout, template.content, template.custom_config)
        self._cache[(name, version)] = wire
        return wire

    def content_of(
        self,
        message: MessageConfiguration | None,
        template: TemplateConfiguration | None,
        field_prefix: str,
    ) -> dict[str, Any] | None:
        """The resolved message of one campaign or treatment, or ``None`` if it has none."""
        inline: CampaignInAppMessage | None = message.in_app_message if message else None
        if inline is not None and inline.content:
            return message_wire(inline.layout, inline.content, inline.custom_config)
        reference = template.in_app_template if template else None
        if reference is not None:
            return self.resolve(
                reference.name, reference.version, f"{field_prefix}TemplateConfiguration.InAppTemplate"
            )
        return None
