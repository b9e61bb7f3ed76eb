"""Pinpoint's error shapes (reference §2.6) as exceptions the handlers raise.

Every error answers with its status, the header ``x-amzn-ErrorType: <Code>`` (botocore maps it
to the modelled exception class) and the body ``{"Message": ..., "RequestID": ...}``.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ApiError",
    "BadRequest",
    "Forbidden",
    "InternalServerError",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "TooManyRequests",
]


class ApiError(Exception):
    """Root of the errors the API answers with; ``code`` and ``status`` are the wire values."""

    code: ClassVar[str] = "InternalServerErrorException"
    status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ApiError):
    code = "BadRequestException"
    status = 400


class Forbidden(ApiError):
    code = "ForbiddenException"
    status = 403


class NotFound(ApiError):
    code = "NotFoundException"
    status = 404


class MethodNotAllowed(ApiError):
    code = "MethodNotAllowedException"
    status = 405


class PayloadTooLarge(ApiError):
    code = "PayloadTooLargeException"
    status = 413


class TooManyRequests(ApiError):
    code = "TooManyRequestsException"
    status = 429


class InternalServerError(ApiError):
    code = "InternalServerErrorException"
    status = 500
