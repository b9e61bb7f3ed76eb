"""Helpers for integration tests over real worker processes (engine.launcher)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import boto3
from botocore.config import Config

from engine.launcher import Deployment, WorkerProcess, running_workers

__all__ = ["ACCESS_KEY", "SECRET_KEY", "Deployment", "WorkerProcess", "pinpoint_client",
           "running_workers", "wait_until"]

ACCESS_KEY = "AKIAINAPPTESTKEY0001"
SECRET_KEY = "test-secret-that-must-never-be-logged"
CREDENTIALS = f"{ACCESS_KEY}:{SECRET_KEY}"

T = TypeVar("T")


def pinpoint_client(base_url: str, *, secret: str = SECRET_KEY, access_key: str = ACCESS_KEY) -> Any:
    return boto3.client(
        "pinpoint",
        endpoint_url=base_url,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 2, "mode": "standard"}, read_timeout=30),
    )


def wait_until(predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.2,
               message: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {message}")
