"""Badge bytes outside the database: a directory, and an S3 bucket (a local moto server)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.infra.badge_files import BucketFiles, DirectoryFiles


async def test_a_directory_keeps_and_returns_the_bytes(tmp_path: Path) -> None:
    files = DirectoryFiles(str(tmp_path / "badges"))
    await files.put("abc.png", b"\x89PNG...", "image/png")
    assert await files.get("abc.png") == b"\x89PNG..."
    assert await files.get("missing.png") is None
    assert [p.name for p in (tmp_path / "badges").iterdir()] == ["abc.png"]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


async def test_a_bucket_keeps_and_returns_the_bytes(s3_endpoint: str) -> None:
    import boto3

    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket="badges"
    )
    files = BucketFiles("badges", endpoint_url=s3_endpoint, region="us-east-1")
    await files.put("abc.webp", b"RIFF....WEBP", "image/webp")
    assert await files.get("abc.webp") == b"RIFF....WEBP"
    assert await files.get("missing.webp") is None
