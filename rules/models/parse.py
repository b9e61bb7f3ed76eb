"""Validate a request body or stored resource into a model, with structured errors."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import ValidationError

from rules.errors import definition_error
from rules.models.base import WireModel

__all__ = ["parse_resource"]

M = TypeVar("M", bound=WireModel)


def parse_resource(
    model: type[M], data: Any, *, resource_id: str | None = None, kind: str = "campaign"
) -> M:
    """``model.model_validate(data)``, raising :class:`rules.errors.DefinitionError` with the
    failing field path and reason (what the API answers as ``BadRequestException``,
    reference §2.5) instead of a pydantic ``ValidationError``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise definition_error(exc, resource_id=resource_id, kind=kind) from None
