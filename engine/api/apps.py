"""Apps and project settings (reference §3, §4.7, §5).

An app is stored under its id; its ``ControlRecord.Settings`` holds the
``ApplicationSettingsResource``. Deleting an app deletes its campaigns and segments too.
"""

from __future__ import annotations

from typing import Any

from engine.api.context import Call
from engine.api.validation import parse_model, require_app, response_wire
from engine.api.wire import app_arn, iso_timestamp, list_body, new_resource_id, paginate
from rules.models import (
    ApplicationResponse,
    ApplicationSettingsResource,
    CreateApplicationRequest,
    WriteApplicationSettingsRequest,
)
from topics.wire import ControlRecord

__all__ = [
    "create_app",
    "delete_app",
    "get_app",
    "get_application_settings",
    "get_apps",
    "update_application_settings",
]

# accepted by UpdateApplicationSettings but never echoed (reference §5.2)
_WRITE_ONLY_SETTINGS = ("CloudWatchMetricsEnabled", "EventTaggingEnabled")


async def create_app(call: Call) -> dict[str, Any]:
    request = parse_model(CreateApplicationRequest, call.json())
    app_id = new_resource_id()
    now = iso_timestamp(call.ctx.now())
    app = response_wire(
        ApplicationResponse,
        {
            "Arn": app_arn(call.ctx.region, call.ctx.account, app_id),
            "Id": app_id,
            "Name": request.name,
            "tags": request.tags or {},
            "CreationDate": now,
        },
    )
    settings = response_wire(ApplicationSettingsResource, {"ApplicationId": app_id, "LastModifiedDate": now})
    await call.backend.write_control("app", app_id, ControlRecord(Kind="app", Versions=[app], Settings=settings))
    return app


async def get_app(call: Call) -> dict[str, Any]:
    return require_app(call.backend, call.label("app_id")).current


async def get_apps(call: Call) -> dict[str, Any]:
    apps = [record.current for _, record in call.backend.control_records("app")]
    items, next_token = paginate(apps, call.query("page-size"), call.query("token"))
    return list_body(items, next_token)


async def delete_app(call: Call) -> dict[str, Any]:
    app_id = call.label("app_id")
    async with call.ctx.lock("app", app_id):
        record = require_app(call.backend, app_id)
        # project-scoped resources go with the project; templates are account-level (§5.1)
        for kind in ("campaign", "segment"):
            for key, _ in call.backend.control_records(kind, f"{app_id}/"):
                await call.backend.write_control(kind, key, None)
        await call.backend.write_control("app", app_id, None)
    return record.current


async def get_application_settings(call: Call) -> dict[str, Any]:
    app_id = call.label("app_id")
    record = require_app(call.backend, app_id)
    return record.Settings or {"ApplicationId": app_id}


async def update_application_settings(call: Call) -> dict[str, Any]:
    app_id = call.label("app_id")
    request = parse_model(WriteApplicationSettingsRequest, call.json())
    async with call.ctx.lock("app", app_id):
        record = require_app(call.backend, app_id)
        changes = {k: v for k, v in request.to_wire().items() if k not in _WRITE_ONLY_SETTINGS}
        settings = response_wire(
            ApplicationSettingsResource,
            {
                **(record.Settings or {}),
                **changes,
                "ApplicationId": app_id,
                "LastModifiedDate": iso_timestamp(call.ctx.now()),
            },
        )
        await call.backend.write_control(
            "app", app_id, ControlRecord(Kind="app", Versions=record.Versions, Settings=settings)
        )
    return settings

