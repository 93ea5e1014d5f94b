"""Where badge bytes live outside the database: a local directory, or an S3-compatible bucket.

The database keeps every badge's row either way (the same bytes give the same URL); these hold
only the bytes, under the badge's random file name. A directory must be shared by every
instance (a volume); a bucket is shared by nature.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any


class DirectoryFiles:
    """The `BadgeFiles` port on a local directory; written atomically (a rename)."""

    def __init__(self, directory: str) -> None:
        self._root = Path(directory)

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, name, data)

    async def get(self, name: str) -> bytes | None:
        return await asyncio.to_thread(self._read, name)

    def _write(self, name: str, data: bytes) -> None:
        self._root.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=self._root, prefix=".upload-")
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, self._root / name)

    def _read(self, name: str) -> bytes | None:
        try:
            return (self._root / name).read_bytes()
        except FileNotFoundError:
            return None


class BucketFiles:
    """The `BadgeFiles` port on an S3-compatible bucket (AWS, MinIO, R2...), through boto3 on a
    thread. Credentials come from boto3's usual sources (AWS_ACCESS_KEY_ID and the rest)."""

    def __init__(
        self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None
    ) -> None:
        import boto3

        self._bucket = bucket
        self._client: Any = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(
            self._client.put_object,
            Bucket=self._bucket,
            Key=f"badges/{name}",
            Body=data,
            ContentType=content_type,
        )

    async def get(self, name: str) -> bytes | None:
        return await asyncio.to_thread(self._read, name)

    def _read(self, name: str) -> bytes | None:
        try:
            answer = self._client.get_object(Bucket=self._bucket, Key=f"badges/{name}")
        except self._client.exceptions.NoSuchKey:
            return None
        body: bytes = answer["Body"].read()
        return body
