"""moto's S3 server on 127.0.0.1, its bucket and policies, and the environment of CI workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from support.commands import stop_process
from support.index import answers, free_port

#: The IAM policy of the S3 server's administrator: everything.
ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


#: The IAM policy of a reader: every S3 action but storing objects.
READER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"},
    ],
}


BUCKET = "pip-accel-ci"
"""The bucket of the S3 tests."""


def worker(
    isolated_env: dict[str, str], s3: S3Server | None, name: str, **extra: str
) -> dict[str, str]:
    """The environment of a CI worker with its own empty data directory, using the bucket."""
    data = Path(isolated_env["HOME"]).parent / f"{name}-data"
    env = {**isolated_env, "PIP_ACCEL_CACHE": str(data), "PIP_ACCEL_S3_PREFIX": "ci"}
    return {**env, **(s3.environment(BUCKET) if s3 else {}), **extra}


class S3Server:
    """moto's S3 server on 127.0.0.1, checking credentials and permissions like AWS.

    moto checks IAM credentials and policies once INITIAL_NO_AUTH_ACTION_COUNT requests have
    been served without; those first requests create the administrator (user, policy, key),
    so every later request needs valid credentials, and a user whose policy denies
    s3:PutObject gets AccessDenied for uploads.
    """

    SETUP_ACTIONS = 3

    def __init__(self, log_file: Path, check_access: bool = True) -> None:
        """Describe a server logging to ``log_file``; ``start`` runs it.

        With ``check_access`` False, moto lets anyone do anything, even without
        credentials, as a public bucket would let anyone read.
        """
        self.log_file = log_file
        self.check_access = check_access
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.admin: dict[str, str] = {}

    @property
    def url(self) -> str:
        """The endpoint URL, for PIP_ACCEL_S3_URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> S3Server:
        """Start the server, wait until it answers and create the administrator."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        if self.check_access:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(self.SETUP_ACTIONS)
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env
            )
        deadline = time.monotonic() + 20
        while not answers(f"{self.url}/moto-api/"):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"moto did not start:\n{self.log_file.read_text()}")
            time.sleep(0.05)
        self.admin = self.create_user("admin", ADMIN_POLICY, {"aws_access_key_id": "x"})
        return self

    def create_user(
        self, name: str, policy: Mapping[str, object], credentials: dict[str, str] | None = None
    ) -> dict[str, str]:
        """Create an IAM user with ``policy``; return its credentials as boto3 arguments."""
        iam = self.client("iam", **(credentials or self.admin))
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName=name, PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return {
            "aws_access_key_id": key["AccessKeyId"],
            "aws_secret_access_key": key["SecretAccessKey"],
        }

    def client(self, service: str = "s3", **credentials: str) -> Any:
        """A boto3 client of this server (the administrator's unless told otherwise)."""
        import boto3  # only the S3 tests need it

        arguments = {"aws_secret_access_key": "x", **(credentials or self.admin)}
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1", **arguments)

    def keys(self, bucket: str) -> list[str]:
        """The names of every object in ``bucket``."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def environment(self, bucket: str, credentials: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of a pip-accel that uses ``bucket`` of this server."""
        chosen = credentials or self.admin
        return {
            "AWS_ACCESS_KEY_ID": chosen["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": chosen["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "PIP_ACCEL_S3_URL": self.url,
            "PIP_ACCEL_S3_BUCKET": bucket,
            "PIP_ACCEL_S3_TIMEOUT": "10",
            "PIP_ACCEL_S3_RETRIES": "1",
        }

    def stop(self) -> None:
        """Terminate the server and wait for it, so that connections are refused afterwards."""
        stop_process(self.process)
        self.process = None
