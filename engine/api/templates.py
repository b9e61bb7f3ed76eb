"""In-app message templates (reference §3, §4.6, §12), stored under the template name.

Version ids are strings "1", "2", …; ``ControlRecord.ActiveVersion`` is the version campaigns
use when they name no version. ``create-new-version=true`` appends a version (it becomes
active only through UpdateTemplateActiveVersion); otherwise an update overwrites the latest
version, and a ``version`` given must be the latest. Delete without ``version`` removes every
version; the active version cannot be deleted while other versions remain.
"""

from __future__ import annotations

import re
from typing import Any

from engine.api.context import Call
from engine.api.errors import BadRequest, NotFound
from engine.api.validation import parse_model, require_record, response_wire, version_number
from engine.api.wire import list_body, iso_timestamp, paginate, template_arn
from rules.models import InAppTemplateRequest, InAppTemplateResponse
from topics.wire import ControlRecord

__all__ = [
    "create_in_app_template",
    "delete_in_app_template",
    "get_in_app_template",
    "list_template_versions",
    "list_templates",
    "template_version",
    "update_in_app_template",
    "update_template_active_version",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")  # reference §12
_VERSION_SUMMARY = ("CreationDate", "LastModifiedDate", "TemplateDescription", "TemplateName", "TemplateType", "Version")


def _name(call: Call) -> str:
    name = call.label("template_name")
    if not _NAME.match(name):
        raise BadRequest(
            "TemplateName must start with a letter or digit and hold at most 128 letters, "
            "digits, hyphens or underscores."
        )
    return name


def _check_type(call: Call) -> None:
    if call.label("template_type").upper() != "INAPP":
        raise NotFound("Only INAPP templates exist on this server.")


def _template(call: Call) -> tuple[str, ControlRecord]:
    name = _name(call)
    return name, require_record(call.backend, "template", name, f"Template {name!r}")


def template_version(record: ControlRecord, version: str | None) -> dict[str, Any] | None:
    """The named version, or the active one when ``version`` is None."""
    wanted = version if version is not None else str(record.ActiveVersion or 1)
    for candidate in record.Versions:
        if candidate.get("Version") == wanted:
            return candidate
    return None


def _content(request: InAppTemplateRequest) -> dict[str, Any]:
    wire = request.to_wire()
    wire.pop("tags", None)
    return wire


def _accepted(call: Call) -> dict[str, Any]:
    return {"Message": "Accepted", "RequestID": call.request_id}


async def create_in_app_template(call: Call) -> dict[str, Any]:
    name = _name(call)
    request = parse_model(InAppTemplateRequest, call.json())
    now = iso_timestamp(call.ctx.now())
    arn = template_arn(call.ctx.region, call.ctx.account, name)
    template = response_wire(
        InAppTemplateResponse,
        {
            **_content(request),
            "Arn": arn,
            "CreationDate": now,
            "LastModifiedDate": now,
            "tags": request.tags or {},
            "TemplateName": name,
            "TemplateType": "INAPP",
            "Version": "1",
        },
    )
    async with call.ctx.lock("template", name):
        if call.backend.control_record("template", name) is not None:
            raise BadRequest(f"Template {name!r} already exists.")
        record = ControlRecord(Kind="template", Versions=[template], ActiveVersion=1)
        await call.backend.write_control("template", name, record)
    return {"Arn": arn, "Message": "Created", "RequestID": call.request_id}


async def get_in_app_template(call: Call) -> dict[str, Any]:
    name, record = _template(call)
    version = call.query("version")
    if version is not None:
        version = str(version_number(version))
    found = template_version(record, version)
    if found is None:
        raise NotFound(f"Template {name!r} has no version {version}.")
    return found


def _create_new_version(call: Call) -> bool:
    flag = call.query("create-new-version")
    if flag is None:
        return False
    if flag.lower() not in ("true", "false"):
        raise BadRequest("create-new-version must be true or false.")
    return flag.lower() == "true"


async def update_in_app_template(call: Call) -> dict[str, Any]:
    name = _name(call)
    request = parse_model(InAppTemplateRequest, call.json())
    new_version = _create_new_version(call)
    version = call.query("version")
    if new_version and version is not None:
        raise BadRequest("version cannot be combined with create-new-version=true.")
    async with call.ctx.lock("template", name):
        _, record = _template(call)
        latest = record.Versions[-1]
        now = iso_timestamp(call.ctx.now())
        kept: dict[str, Any] = {
            k: latest[k] for k in ("Arn", "CreationDate", "tags", "TemplateName", "TemplateType") if k in latest
        }
        if new_version:
            number = max(int(v["Version"]) for v in record.Versions) + 1
            updated = response_wire(
                InAppTemplateResponse,
                {**kept, **_content(request), "LastModifiedDate": now, "Version": str(number)},
            )
            versions = [*record.Versions, updated]
        else:
            if version is not None and str(version_number(version)) != latest["Version"]:
                raise BadRequest(
                    f"version {version} is not the latest version ({latest['Version']}); only "
                    "the latest version can be updated in place."
                )
            updated = response_wire(
                InAppTemplateResponse,
                {**kept, **_content(request), "LastModifiedDate": now, "Version": latest["Version"]},
            )
            versions = [*record.Versions[:-1], updated]
        await call.backend.write_control(
            "template", name, ControlRecord(Kind="template", Versions=versions, ActiveVersion=record.ActiveVersion)
        )
    return _accepted(call)


async def delete_in_app_template(call: Call) -> dict[str, Any]:
    name = _name(call)
    version = call.query("version")
    async with call.ctx.lock("template", name):
        _, record = _template(call)
        if version is None:
            await call.backend.write_control("template", name, None)
            return _accepted(call)
        label = str(version_number(version))
        remaining = [v for v in record.Versions if v.get("Version") != label]
        if len(remaining) == len(record.Versions):
            raise NotFound(f"Template {name!r} has no version {label}.")
        if not remaining:
            await call.backend.write_control("template", name, None)
            return _accepted(call)
        if label == str(record.ActiveVersion or 1):
            raise BadRequest(f"Version {label} is the active version of {name!r}; activate another first.")
        await call.backend.write_control(
            "template", name, ControlRecord(Kind="template", Versions=remaining, ActiveVersion=record.ActiveVersion)
        )
    return _accepted(call)


async def list_template_versions(call: Call) -> dict[str, Any]:
    _check_type(call)
    _, record = _template(call)
    summaries = [{k: v[k] for k in _VERSION_SUMMARY if k in v} for v in record.Versions]
    items, next_token = paginate(summaries, call.query("page-size"), call.query("next-token"))
    body = list_body(items, next_token)
    body.update({"Message": "Success", "RequestID": call.request_id})
    return body


async def update_template_active_version(call: Call) -> dict[str, Any]:
    _check_type(call)
    name = _name(call)
    body = call.json()
    requested = body.get("Version")
    if not isinstance(requested, str):
        raise BadRequest("Version: a version id string is required.")
    label = str(version_number(requested))
    async with call.ctx.lock("template", name):
        _, record = _template(call)
        if template_version(record, label) is None:
            raise NotFound(f"Template {name!r} has no version {label}.")
        await call.backend.write_control(
            "template", name, ControlRecord(Kind="template", Versions=record.Versions, ActiveVersion=int(label))
        )
    return _accepted(call)


async def list_templates(call: Call) -> dict[str, Any]:
    wanted_type = call.query("template-type")
    prefix = call.query("prefix") or ""
    templates: list[dict[str, Any]] = []
    if wanted_type is None or wanted_type.upper() == "INAPP":
        for _, record in call.backend.control_records("template", prefix):
            active = template_version(record, None) or record.current
            templates.append({k: v for k, v in active.items() if k not in ("Content", "CustomConfig", "Layout")})
    items, next_token = paginate(templates, call.query("page-size"), call.query("next-token"))
    return list_body(items, next_token)
