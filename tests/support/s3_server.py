"""S3 for tests: moto's server mode over real HTTP on 127.0.0.1, reached with real boto3.

The bucket is versioned, so every PUT leaves a version behind: a test counts uploads by
counting an object's versions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from moto.server import ThreadedMotoServer

from tests.support.smtp_server import free_port

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BUCKET, REGION = "lineblocs-recordings", "us-east-1"
KEY_ID, SECRET = "AKIATESTRELOCATION", "test-secret-key"


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    client: S3Client

    def site_credentials(self) -> dict[str, str]:
        """The four settings as Lineblocs keeps them in api_credentials_kv_store."""
        return {
            "aws_access_key_id": KEY_ID,
            "aws_secret_access_key": SECRET,
            "aws_region": REGION,
            "s3_bucket": BUCKET,
        }

    def versions(self, key: str) -> int:
        listed = self.client.list_object_versions(Bucket=BUCKET, Prefix=key)
        return len([v for v in listed.get("Versions", []) if v.get("Key") == key])


@contextmanager
def s3_server(*, versioned: bool = True) -> Iterator[S3Server]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    client.create_bucket(Bucket=BUCKET)
    if versioned:
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    try:
        yield S3Server(endpoint, client)
    finally:
        server.stop()
