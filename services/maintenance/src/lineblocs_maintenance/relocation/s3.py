"""Recordings in S3 (or an S3-compatible store at S3_ENDPOINT_URL), with boto3.

Each object carries the media type ARI gave and our SHA-256 as `x-amz-meta-sha256`; the upload
also sends that SHA-256 as S3's own checksum, so the store refuses a body altered in transit.
Errors are sorted once, here: a refusal (credentials, permissions, no bucket) is fatal, the rest
(5xx, throttling, timeouts, connections) transient.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from lineblocs_maintenance.relocation.ari import Download
from lineblocs_maintenance.relocation.errors import StorageRefused, StorageUnavailable
from lineblocs_maintenance.relocation.storage import StoredObject
from lineblocs_shared.site_settings.reader import AwsS3Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

RETRYABLE_STATUSES = frozenset({408, 429})


def storage_error(exc: ClientError | BotoCoreError, doing: str) -> Exception:
    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        code = exc.response.get("Error", {}).get("Code", "?")
        if 400 <= status < 500 and status not in RETRYABLE_STATUSES:
            return StorageRefused(f"S3 refused to {doing}: {code} (HTTP {status})")
        return StorageUnavailable(f"S3 failed to {doing}: {code} (HTTP {status})")
    return StorageUnavailable(f"S3 unreachable to {doing}: {type(exc).__name__}: {exc}")


class S3Store:
    name = "s3"

    def __init__(self, config: AwsS3Settings, *, endpoint_url: str, timeout_s: float) -> None:
        self.bucket = config.bucket
        self._endpoint = endpoint_url.rstrip("/")
        self._region = config.region
        self._client: S3Client = boto3.client(
            "s3",
            region_name=config.region,
            aws_access_key_id=config.access_key_id,
            aws_secret_access_key=config.secret_access_key,
            endpoint_url=endpoint_url or None,
            config=Config(
                connect_timeout=timeout_s,
                read_timeout=timeout_s,
                retries={"max_attempts": 1},  # Dramatiq retries, with backoff and a budget
                s3={"addressing_style": "path"} if endpoint_url else None,
            ),
        )

    def find(self, key: str) -> StoredObject | None:
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise storage_error(exc, f"read {key}") from None
        except BotoCoreError as exc:
            raise storage_error(exc, f"read {key}") from None
        return StoredObject(key, head["ContentLength"], head.get("Metadata", {}).get("sha256", ""))

    def put(self, key: str, body: BinaryIO, download: Download) -> None:
        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentLength=download.size,
                ContentType=download.content_type,
                Metadata={"sha256": download.sha256},
                ChecksumSHA256=base64.b64encode(bytes.fromhex(download.sha256)).decode(),
            )
        except (ClientError, BotoCoreError) as exc:
            raise storage_error(exc, f"write {key}") from None

    def url_of(self, key: str) -> str:
        if self._endpoint:
            return f"{self._endpoint}/{self.bucket}/{key}"
        return f"https://{self.bucket}.s3.{self._region}.amazonaws.com/{key}"

    def check(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise storage_error(exc, f"reach bucket {self.bucket}") from None

    def close(self) -> None:
        self._client.close()
