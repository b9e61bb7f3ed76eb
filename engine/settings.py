"""One frozen settings object, built at the entry point (the CLI) and passed down.

Nothing below the CLI reads ``os.environ``: every knob the worker honours is a field here,
read from the environment (``INAPP_*``, plus the conventional ``KAFKA_BOOTSTRAP_SERVERS``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "parse_credentials"]


def parse_credentials(raw: SecretStr | None) -> dict[str, SecretStr]:
    """Parse ``ACCESS_KEY_ID:SECRET[,…]`` (PRODUCT.md, public contracts)."""
    if raw is None:
        return {}
    pairs: dict[str, SecretStr] = {}
    for item in raw.get_secret_value().split(","):
        item = item.strip()
        if not item:
            continue
        key_id, sep, secret = item.partition(":")
        if not sep or not key_id or not secret:
            raise ValueError("INAPP_API_CREDENTIALS entries must look like ACCESS_KEY_ID:SECRET")
        pairs[key_id] = SecretStr(secret)
    return pairs


class Settings(BaseSettings):
    """Everything a worker, the API and the CLI read, from ``INAPP_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="INAPP_", frozen=True, extra="ignore")

    # -- Kafka ------------------------------------------------------------------------
    kafka_bootstrap_servers: str | None = Field(
        default=None,
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "INAPP_KAFKA_BOOTSTRAP_SERVERS"),
        description="host:port[,host:port]; unset means `inapp dev`/`demo` start the embedded broker",
    )
    topic_prefix: str = "inapp."
    partitions: int = Field(default=8, ge=1, le=1024)
    replication_factor: int = Field(default=1, ge=1)
    app_id: str = Field(default="inapp-engine", description="Faust app id = consumer group id")

    # -- Worker -----------------------------------------------------------------------
    data_dir: Path = Path("./.inapp-data")
    store: Literal["memory", "rocksdb"] = "rocksdb"
    processing_guarantee: Literal["at_least_once", "exactly_once"] = "at_least_once"
    standby_replicas: int = Field(default=1, ge=0)
    # Tansu 0.6.0 reports a wrong end offset after a multi-record batch, and Faust's changelog
    # recovery reads up to the end offset: the embedded broker runs with 1 (a record a batch)
    producer_max_batch_bytes: int = Field(default=131072, ge=1)
    # False on the embedded broker: its end offsets lag after batches from other producers,
    # so the stall watchdog also nudges partitions that look idle (engine.watchdog)
    broker_end_offsets_exact: bool = True
    # the batch ingest's fetches (engine.ingest): how long the broker may hold a fetch for
    # more data (latency when idle), and how much one partition may return at once
    ingest_fetch_wait_ms: int = Field(default=20, ge=0, le=5000)
    ingest_partition_fetch_bytes: int = Field(default=1024 * 1024, ge=1024)
    # how soon the group notices a dead worker and moves its partitions (Faust's default is 60)
    session_timeout_seconds: float = Field(default=30.0, ge=6.0)
    # a Timestamp further ahead of receive time than this is clamped (PRODUCT.md semantics 7)
    max_event_skew_seconds: float = Field(default=300.0, ge=0)
    log_level: str = "info"

    # -- API --------------------------------------------------------------------------
    web_bind: str = "127.0.0.1"
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=6066, ge=1, le=65535)
    api_credentials: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("INAPP_API_CREDENTIALS"),
        description="ACCESS_KEY_ID:SECRET[,…]; requests are verified as SigV4 (mobiletargeting)",
    )
    api_region: str = "us-east-1"
    api_account_id: str = "000000000000"
    max_clock_skew_seconds: int = Field(default=900, ge=0)
    # GetInAppMessages caps: the remaining counts (AWS blog) or the configured values (Amplify)
    inapp_caps_report: Literal["remaining", "configured"] = "remaining"

    # -- Forwarder (off unless forward_endpoint_url is set) ---------------------------
    forward_endpoint_url: str | None = None
    forward_region: str = "us-east-1"
    forward_access_key_id: str | None = None
    forward_secret_access_key: SecretStr | None = None
    # local app id -> remote app id, "local=remote,…"; unmapped apps keep their id
    forward_app_ids: str = ""
    forward_max_attempts: int = Field(default=5, ge=1)

    # -- Segment import ---------------------------------------------------------------
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None

    def credentials(self) -> dict[str, SecretStr]:
        return parse_credentials(self.api_credentials)

    def forward_app_id_map(self) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for item in self.forward_app_ids.split(","):
            local, sep, remote = item.strip().partition("=")
            if sep and local and remote:
                mapping[local] = remote
        return mapping

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"
