"""Per-operation token buckets with Pinpoint's documented default rates (reference §2.6).

Each operation has a bucket whose rate (requests per second) equals its burst. A request that
finds its bucket empty is answered 429 ``TooManyRequestsException``. Buckets are per worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

__all__ = ["DEFAULT_RATE", "OPERATION_RATES", "Throttle", "TokenBucket"]

# requests per second = burst, Pinpoint's default quotas (reference §2.6); others get DEFAULT_RATE
OPERATION_RATES: Mapping[str, float] = {
    "CreateCampaign": 25,
    "UpdateCampaign": 25,
    "DeleteCampaign": 25,
    "CreateSegment": 25,
    "UpdateSegment": 25,
    "DeleteSegment": 25,
    "GetEndpoint": 7000,
    "PutEvents": 7000,
    "UpdateEndpoint": 5000,
    "UpdateEndpointsBatch": 5000,
    "DeleteEndpoint": 1000,
    "GetInAppMessages": 5000,
}
DEFAULT_RATE = 300.0


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` stored; each request takes one."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._updated = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


class Throttle:
    """One bucket per operation name, created on first use; ``rates`` override the defaults."""

    def __init__(
        self,
        rates: Mapping[str, float] | None = None,
        default_rate: float = DEFAULT_RATE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rates = {**OPERATION_RATES, **(rates or {})}
        self._default = default_rate
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def rate(self, operation: str) -> float:
        return self._rates.get(operation, self._default)

    def allow(self, operation: str) -> bool:
        bucket = self._buckets.get(operation)
        if bucket is None:
            rate = self.rate(operation)
            bucket = self._buckets[operation] = TokenBucket(rate, rate, self._clock)
        return bucket.take()
