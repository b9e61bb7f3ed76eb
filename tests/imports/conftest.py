"""An S3-compatible server for import tests: moto's server as a real process on loopback."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from engine.brokers import free_port

S3_KEY_ID = "AKIAS3IMPORTTEST0001"
S3_SECRET = "s3-import-test-secret"


@dataclass
class S3Server:
    """moto's S3 on ``url``; ``bucket()`` makes a fresh bucket, ``put`` uploads text."""

    url: str

    def env(self) -> dict[str, str]:
        """The worker settings that point an engine at this server."""
        return {"INAPP_S3_ENDPOINT_URL": self.url, "INAPP_S3_REGION": "us-east-1",
                "INAPP_S3_ACCESS_KEY_ID": S3_KEY_ID, "INAPP_S3_SECRET_ACCESS_KEY": S3_SECRET}

    def client(self) -> Any:
        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id=S3_KEY_ID, aws_secret_access_key=S3_SECRET)

    def bucket(self) -> str:
        name = f"imports-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def put(self, bucket: str, key: str, text: str) -> str:
        self.client().put_object(Bucket=bucket, Key=key, Body=text.encode())
        return f"s3://{bucket}/{key}"


def _moto_command(port: int) -> list[str]:
    script = Path(sys.executable).with_name("moto_server")
    if script.exists():
        return [str(script), "-H", "127.0.0.1", "-p", str(port)]
    found = shutil.which("moto_server")
    if found:
        return [found, "-H", "127.0.0.1", "-p", str(port)]
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    process = subprocess.Popen(_moto_command(port), stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not start on {url}") from None
                time.sleep(0.1)
        yield S3Server(url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
