"""The ``inapp`` command: worker, dev, demo, segment import, topic listing.

This is the entry point: the only place that reads the environment (through ``Settings``)
and decides which broker to use.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import click

from engine.brokers import EmbeddedBroker
from engine.settings import Settings

__all__ = ["main"]


@click.group()
def main() -> None:
    """inapp-engine: Kafka-native in-app messaging with a Pinpoint-compatible API."""


@main.command()
@click.option("--port", type=int, default=None, help="API port (default INAPP_WEB_PORT or 6066)")
def worker(port: int | None) -> None:
    """Run one production worker (start as many as the events topic has partitions)."""
    settings = Settings(**({"web_port": port} if port else {}))
    if not settings.kafka_bootstrap_servers:
        raise click.UsageError("set KAFKA_BOOTSTRAP_SERVERS (or use `inapp dev` for a local broker)")
    from engine.runtime import run_worker

    run_worker(settings, settings.kafka_bootstrap_servers)


def _dev_credentials(data_dir: Path) -> str:
    """Credentials for local use, kept in a 0600 file (never printed: secrets stay out of logs)."""
    path = data_dir / "dev-credentials"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key_id = "AKIA" + secrets.token_hex(8).upper()
        path.write_text(f"{key_id}:{secrets.token_urlsafe(30)}\n")
        path.chmod(0o600)
    return path.read_text().strip()


@main.command()
@click.option("--port", type=int, default=6066, show_default=True, help="API port")
def dev(port: int) -> None:
    """Worker + API on the embedded broker (or KAFKA_BOOTSTRAP_SERVERS when set)."""
    overrides: dict[str, object] = {"web_port": port}
    if "INAPP_STORE" not in os.environ:
        overrides["store"] = "memory"
    if "INAPP_STANDBY_REPLICAS" not in os.environ:
        overrides["standby_replicas"] = 0
    settings = Settings(**overrides)  # type: ignore[arg-type]
    if settings.api_credentials is None:
        credentials_file = settings.data_dir / "dev-credentials"
        settings = settings.model_copy(update={"api_credentials": _secret(_dev_credentials(settings.data_dir))})
        click.echo(f"API credentials (ACCESS_KEY_ID:SECRET) are in {credentials_file}", err=True)
    broker = None
    bootstrap = settings.kafka_bootstrap_servers
    if not bootstrap:
        broker = EmbeddedBroker().start()
        bootstrap = broker.bootstrap_servers
        settings = settings.model_copy(update={"producer_max_batch_bytes": 1, "broker_end_offsets_exact": False})
        click.echo(f"embedded Kafka-compatible broker (Tansu) on {bootstrap}", err=True)
    from engine.runtime import run_worker

    try:
        run_worker(settings, bootstrap)
    finally:
        if broker is not None:
            broker.stop()


def _secret(value: str):  # noqa: ANN202 - pydantic SecretStr
    from pydantic import SecretStr

    return SecretStr(value)


@main.command()
def topics() -> None:
    """List the engine's topics (the catalogue every worker creates)."""
    from topics.catalog import TOPICS

    settings = Settings()
    for spec in TOPICS:
        kind = "compacted" if spec.compacted else "append"
        partitions = spec.partitions(settings.partitions)
        click.echo(f"{settings.topic_prefix}{spec.name:<18} key={spec.key:<26} {partitions:>3}p {kind}")


@main.command()
def demo() -> None:
    """The AWS blog's retailer scenario, end to end, on the embedded broker."""
    from engine.demo import run_demo

    sys.exit(run_demo(Settings()))


from engine.imports.cli import segments  # noqa: E402 - `inapp segments import`

main.add_command(segments)


if __name__ == "__main__":  # pragma: no cover
    main()
