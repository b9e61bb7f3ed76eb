"""Fixtures for the API tests: a server factory that takes any backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from tests.api.harness import RunningApi, serve_api
from tests.api.memory_backend import InMemoryBackend


@pytest.fixture
def api_factory() -> Iterator[Callable[..., RunningApi]]:
    """``api_factory(backend=None, settings=None, prepare=None, **mount_kwargs)`` → a running
    API (see ``harness.serve_api``); all are
    stopped at the end of the test. Integration tests may pass the engine's backend."""
    with ExitStack() as stack:

        def make(backend: Any = None, settings: Any = None, **kwargs: Any) -> RunningApi:
            return stack.enter_context(serve_api(backend or InMemoryBackend(), settings, **kwargs))

        yield make


@pytest.fixture
def api(api_factory: Callable[..., RunningApi]) -> RunningApi:
    return api_factory()


@pytest.fixture
def pinpoint(api: RunningApi) -> Any:
    """A boto3 Pinpoint client on a fresh API backed by the in-memory test double."""
    return api.client()
