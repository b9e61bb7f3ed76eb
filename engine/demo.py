"""``inapp demo``: the AWS blog's retailer scenario end to end, narrated.

Starts the embedded broker (unless ``KAFKA_BOOTSTRAP_SERVERS`` is set) and one worker,
creates the blog's app, endpoints, segment, template and campaign with boto3 through the
Pinpoint API, publishes ``app_launch`` events to Kafka, prints the display decision, then
sends the display and click back and shows remaining caps and KPIs.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import Callable


import boto3
import click
from botocore.config import Config
from tqdm import tqdm

from engine.brokers import EmbeddedBroker
from engine.launcher import Deployment, WorkerProcess
from engine.scenario import CAMPAIGN_NAME, TEMPLATE_NAME, BlogScenario, app_event
from engine.settings import Settings

__all__ = ["run_demo"]


def _step(text: str) -> None:
    click.secho(f"\n==> {text}", bold=True)


def _waiting(label: str, done: Callable[[], bool], timeout: float) -> bool:
    """A progress bar over elapsed seconds while ``done()`` is false."""
    with tqdm(total=int(timeout), desc=label, unit="s", leave=False,
              bar_format="{desc}: {elapsed} {bar} (up to {total}s)") as bar:
        start = time.monotonic()
        while not done():
            elapsed = time.monotonic() - start
            if elapsed > timeout:
                return False
            bar.n = int(elapsed)
            bar.refresh()
            time.sleep(0.25)
    return True


def _start_worker(worker: WorkerProcess, timeout: float = 240.0) -> None:
    failure: list[BaseException] = []

    def run() -> None:
        try:
            worker.start(timeout=timeout)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    _waiting("worker joining its consumer group", lambda: not thread.is_alive(), timeout + 5)
    thread.join()
    if failure:
        raise failure[0]


def run_demo(settings: Settings) -> int:
    broker = None
    bootstrap = settings.kafka_bootstrap_servers
    worker: WorkerProcess | None = None
    try:
        if bootstrap:
            _step(f"Using your Kafka at {bootstrap}")
        else:
            _step("Starting the embedded Kafka-compatible broker (Tansu, memory only)")
            broker = EmbeddedBroker().start()
            bootstrap = broker.bootstrap_servers
            click.echo(f"    broker on {bootstrap}")
        key_id, secret = "AKIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30)
        deployment = Deployment(bootstrap=bootstrap, credentials=f"{key_id}:{secret}",
                                prefix=f"demo{secrets.token_hex(3)}.", app_id=f"inapp-demo-{secrets.token_hex(3)}",
                                embedded_broker=broker is not None)
        _step("Starting an inapp worker (stream agents + Pinpoint API)")
        worker = WorkerProcess(deployment)
        _start_worker(worker)
        click.echo(f"    API at {worker.base_url}  (topics {deployment.prefix}*)")

        pinpoint = boto3.client("pinpoint", endpoint_url=worker.base_url, region_name="us-east-1",
                                aws_access_key_id=key_id, aws_secret_access_key=secret,
                                config=Config(retries={"max_attempts": 2, "mode": "standard"}))
        blog = BlogScenario(pinpoint, bootstrap, prefix=deployment.prefix)
        _step("Creating the blog's resources with boto3.client('pinpoint', endpoint_url=...)")
        blog.create_resources()
        click.echo(f"    app {blog.app_id}: endpoints 111 (LastPurchaseValue 600) and 222 (200)")
        click.echo(f"    segment LastPurchaseValue > 500 ({blog.segment_id})")
        click.echo(f"    template {TEMPLATE_NAME}; campaign {CAMPAIGN_NAME} ({blog.campaign_id}),"
                   " priority 1, caps 10/10/10, trigger app_launch")

        _step(f"Publishing app_launch for both endpoints to {deployment.prefix}events")
        asyncio.run(blog.publish([app_event(blog.app_id, e, "app_launch") for e in ("111", "222")]))
        decisions = asyncio.run(blog.collect_decisions(expected=1, quiet=2.0))
        mine = [d for d in decisions if d["EndpointId"] == "111"]
        if not mine:
            click.secho("    no decision arrived for endpoint 111", fg="red")
            return 1
        click.echo(f"    decision on {deployment.prefix}decisions for endpoint 111:")
        click.echo(_indent(json.dumps(mine[0], indent=2)))
        others = [d for d in decisions if d["EndpointId"] == "222"]
        click.echo("    endpoint 222 got " + ("a decision (unexpected!)" if others else
                   "no decision: LastPurchaseValue 200 is not > 500, so it is not in the segment"))

        _step("The app shows the banner and the user clicks: _inapp.message_displayed and _clicked flow back")
        asyncio.run(blog.publish([blog.engagement(mine[0], "_inapp.message_displayed"),
                                  blog.engagement(mine[0], "_inapp.message_clicked")]))
        _waiting("engagement reaching the campaign counters", lambda: blog.kpi("inapp-clicks") >= 1, 60)
        listing = blog.in_app_messages("111")
        for message in listing:
            click.echo(f"    GetInAppMessages(111): {message['CampaignId']} remaining "
                       f"daily {message['DailyCap']}, total {message['TotalCap']}, session cap {message['SessionCap']}")
        for kpi in ("inapp-decisions", "inapp-displays", "inapp-unique-displays", "inapp-clicks"):
            click.echo(f"    {kpi}: {blog.kpi(kpi):.0f}")
        click.secho("\nDemo complete.", fg="green", bold=True)
        return 0
    finally:
        if worker is not None:
            worker.stop()
        if broker is not None:
            broker.stop()


def _indent(text: str, prefix: str = "      ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


