"""In-app content and templates (reference §4.1, §4.2 MessageConfiguration, §4.6, §12)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from rules.models.base import (
    AlignmentName,
    ButtonActionName,
    LayoutName,
    StringMap,
    TemplateTypeName,
    WireModel,
)

__all__ = [
    "CampaignInAppMessage",
    "DefaultButtonConfiguration",
    "InAppMessage",
    "InAppMessageBodyConfig",
    "InAppMessageButton",
    "InAppMessageContent",
    "InAppMessageHeaderConfig",
    "InAppTemplate",
    "InAppTemplateRequest",
    "InAppTemplateResponse",
    "MessageConfiguration",
    "OverrideButtonConfiguration",
    "Template",
    "TemplateConfiguration",
    "TemplateCreateMessageBody",
]

MAX_CONTENT_ITEMS = 5  # reference §4.6 / §12: up to 5 items (carousel)
TEMPLATE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$"  # reference §12


class InAppMessageHeaderConfig(WireModel):
    alignment: AlignmentName
    header: str
    text_color: str


class InAppMessageBodyConfig(WireModel):
    alignment: AlignmentName
    body: str
    text_color: str


class OverrideButtonConfiguration(WireModel):
    """Per-platform override of a button's action and link (reference §4.1, §10.4)."""

    button_action: ButtonActionName
    link: str | None = None


class DefaultButtonConfiguration(WireModel):
    background_color: str | None = None
    border_radius: int | None = None
    button_action: ButtonActionName
    link: str | None = None
    text: str
    text_color: str | None = None


class InAppMessageButton(WireModel):
    android: OverrideButtonConfiguration | None = None
    default_config: DefaultButtonConfiguration | None = None
    ios: OverrideButtonConfiguration | None = Field(default=None, alias="IOS")
    web: OverrideButtonConfiguration | None = None


class InAppMessageContent(WireModel):
    background_color: str | None = None
    body_config: InAppMessageBodyConfig | None = None
    header_config: InAppMessageHeaderConfig | None = None
    image_url: str | None = None
    primary_btn: InAppMessageButton | None = None
    secondary_btn: InAppMessageButton | None = None


def _check_content(layout: str | None, content: list[InAppMessageContent] | None) -> None:
    if content is None:
        return
    if len(content) > MAX_CONTENT_ITEMS:
        raise ValueError(f"Content: at most {MAX_CONTENT_ITEMS} items")
    if len(content) > 1 and layout != "CAROUSEL":
        raise ValueError("Content: only the CAROUSEL layout takes more than one item")


class InAppMessage(WireModel):
    """The delivered message: ``Layout``, ``Content``, ``CustomConfig`` (reference §4.1)."""

    content: list[InAppMessageContent] | None = None
    custom_config: StringMap | None = None
    layout: LayoutName | None = None

    @model_validator(mode="after")
    def _check(self) -> InAppMessage:
        _check_content(self.layout, self.content)
        return self


class CampaignInAppMessage(WireModel):
    """``MessageConfiguration.InAppMessage`` of a campaign (reference §4.2); ``Body`` is
    legacy and never delivered (§8.5)."""

    body: str | None = None
    content: list[InAppMessageContent] | None = None
    custom_config: StringMap | None = None
    layout: LayoutName | None = None

    @model_validator(mode="after")
    def _check(self) -> CampaignInAppMessage:
        _check_content(self.layout, self.content)
        return self


class MessageConfiguration(WireModel):
    """Only ``InAppMessage`` matters to the in-app channel; the other channels' members are
    stored and echoed verbatim (reference §4.2)."""

    adm_message: dict[str, Any] | None = Field(default=None, alias="ADMMessage")
    apns_message: dict[str, Any] | None = Field(default=None, alias="APNSMessage")
    baidu_message: dict[str, Any] | None = None
    custom_message: dict[str, Any] | None = None
    default_message: dict[str, Any] | None = None
    email_message: dict[str, Any] | None = None
    gcm_message: dict[str, Any] | None = Field(default=None, alias="GCMMessage")
    sms_message: dict[str, Any] | None = Field(default=None, alias="SMSMessage")
    in_app_message: CampaignInAppMessage | None = None


class Template(WireModel):
    """A template reference; ``Version`` omitted = the active version (reference §4.2)."""

    name: str | None = None
    version: str | None = None


class TemplateConfiguration(WireModel):
    email_template: Template | None = None
    push_template: Template | None = None
    sms_template: Template | None = Field(default=None, alias="SMSTemplate")
    voice_template: Template | None = None
    in_app_template: Template | None = None


class InAppTemplateRequest(WireModel):
    """Body of Create/UpdateInAppTemplate (reference §4.6)."""

    content: list[InAppMessageContent] | None = None
    custom_config: StringMap | None = None
    layout: LayoutName | None = None
    tags: StringMap | None = Field(default=None, alias="tags")
    template_description: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _check(self) -> InAppTemplateRequest:
        _check_content(self.layout, self.content)
        return self


class InAppTemplateResponse(WireModel):
    """A stored in-app template version (reference §4.6, §12)."""

    arn: str | None = None
    content: list[InAppMessageContent] | None = None
    creation_date: str
    custom_config: StringMap | None = None
    last_modified_date: str
    layout: LayoutName | None = None
    tags: StringMap | None = Field(default=None, alias="tags")
    template_description: str | None = None
    template_name: str = Field(pattern=TEMPLATE_NAME_PATTERN)
    template_type: TemplateTypeName = "INAPP"
    version: str | None = None

    @model_validator(mode="after")
    def _check(self) -> InAppTemplateResponse:
        _check_content(self.layout, self.content)
        return self


InAppTemplate = InAppTemplateResponse


class TemplateCreateMessageBody(WireModel):
    """201 body of CreateInAppTemplate; note ``RequestID`` (reference §4.6)."""

    arn: str | None = None
    message: str | None = None
    request_id: str | None = Field(default=None, alias="RequestID")
