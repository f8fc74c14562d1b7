"""Unit tests of ``pip_accel.caches.s3_client``: S3's errors in words, and the bucket check.

boto3's exceptions are made here as S3 would raise them, and the client is a stand-in that
records calls; ``connect`` builds a real boto3 client, which contacts nothing until used.
"""

import sys
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from pip_accel.caches import s3_client
from pip_accel.caches.s3_client import check_bucket, connect, error_code, translate
from pip_accel.config import Config
from pip_accel.exceptions import CacheError, CacheWriteRefusedError


def client_error(code: str, operation: str = "PutObject") -> ClientError:
    """The exception boto3 raises when S3 answers with the error ``code``."""
    return ClientError({"Error": {"Code": code, "Message": "message"}}, operation)


def config(**options: str) -> Config:
    """A configuration with an S3 bucket and the given options."""
    settings = {"s3-bucket": "wheels", "s3-url": "http://127.0.0.1:9", **options}
    return Config(overrides=settings, environ={})


class Client:
    """An S3 client whose ``list_objects_v2`` and ``create_bucket`` fail as told."""

    def __init__(self, listing: Exception | None = None, creating: Exception | None = None):
        """Remember what each call raises (None: it succeeds)."""
        self.listing = listing
        self.creating = creating
        self.calls: list[str] = []

    def list_objects_v2(self, **kwargs: Any) -> dict[str, Any]:
        """List the bucket, or fail."""
        self.calls.append(f"list {kwargs['Bucket']}")
        if self.listing:
            raise self.listing
        return {}

    def create_bucket(self, **kwargs: Any) -> None:
        """Create the bucket, or fail."""
        self.calls.append(f"create {kwargs['Bucket']}")
        if self.creating:
            raise self.creating


def test_error_code_of_an_s3_answer_and_of_anything_else() -> None:
    """The code of S3's answer, or an empty string for errors without one."""
    assert error_code(client_error("NoSuchBucket")) == "NoSuchBucket"
    assert error_code(ValueError("x")) == ""


@pytest.mark.parametrize(
    ("code", "advice"),
    [
        ("NoSuchBucket", "the bucket does not exist; create it, or set s3-create-bucket"),
        ("InvalidAccessKeyId", "S3 refused the credentials (InvalidAccessKeyId)"),
        ("AccessDenied", "S3 denied access (AccessDenied); check the credentials"),
        ("SlowDown", "S3 answered SlowDown"),
    ],
)
def test_translate_gives_advice_per_code(code: str, advice: str) -> None:
    """Each family of codes has its own advice, after what pip-accel was doing."""
    error = translate(client_error(code), "Could not read")
    assert type(error) is CacheError
    assert str(error).startswith(f"Could not read: {advice}")


def test_denied_write_is_a_refused_write() -> None:
    """A denied upload makes the backend read-only instead of disabling it."""
    error = translate(client_error("AccessDenied"), "Could not store", writing=True)
    assert isinstance(error, CacheWriteRefusedError)
    assert "set s3-readonly = true" in str(error)


def test_network_and_other_errors() -> None:
    """botocore's own errors point at the settings; others name their type."""
    down = translate(EndpointConnectionError(endpoint_url="http://x"), "Could not read")
    assert "check s3-url, s3-timeout and the network" in str(down)
    assert str(translate(ValueError("odd"), "Could not read")) == "Could not read: ValueError: odd"


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (EndpointConnectionError(endpoint_url="http://x"), "the S3 endpoint could not be reached"),
        (ConnectTimeoutError(endpoint_url="http://x"), "the S3 endpoint could not be reached"),
        (ConnectionRefusedError(111, "Connection refused"), "the S3 endpoint could not be reached"),
        (
            ConnectionClosedError(endpoint_url="http://x"),
            "the connection to the S3 endpoint was lost",
        ),
        (ReadTimeoutError(endpoint_url="http://x"), "the connection to the S3 endpoint was lost"),
        (ResponseStreamingError(error="cut"), "the connection to the S3 endpoint was lost"),
        (ConnectionResetError(104, "reset"), "the connection to the S3 endpoint was lost"),
    ],
)
def test_an_outage_says_what_failed_with_the_error(error: Exception, says: str) -> None:
    """An unreachable endpoint and a lost connection are named as such, with botocore's words."""
    message = str(translate(error, "Could not download x from the S3 bucket b"))
    assert message.startswith(f"Could not download x from the S3 bucket b: {says} (")
    assert message.endswith("); check s3-url, s3-timeout and the network")
    assert (str(error).rstrip(".") or type(error).__name__) in message


def test_answers_of_s3_and_other_errors_are_no_outage() -> None:
    """A missing object, a disk that is full: not a connection that failed."""
    assert s3_client.connection_failure(client_error("NoSuchKey", "GetObject")) is None
    assert s3_client.connection_failure(OSError(28, "No space left on device")) is None


def test_existing_bucket_is_only_listed() -> None:
    """A bucket that answers a listing is used as it is."""
    client = Client()
    check_bucket(client, config())
    assert client.calls == ["list wheels"]


def test_missing_bucket_is_an_error_without_create_option() -> None:
    """Without s3-create-bucket, a missing bucket stops the backend with advice."""
    client = Client(listing=client_error("NoSuchBucket", "ListObjectsV2"))
    with pytest.raises(CacheError, match="Could not use the S3 bucket wheels: the bucket does"):
        check_bucket(client, config())
    assert client.calls == ["list wheels"]


def test_missing_bucket_is_created_when_configured() -> None:
    """With s3-create-bucket, a missing bucket is created."""
    client = Client(listing=client_error("NoSuchBucket", "ListObjectsV2"))
    check_bucket(client, config(**{"s3-create-bucket": "true"}))
    assert client.calls == ["list wheels", "create wheels"]


def test_failed_creation_says_so() -> None:
    """A bucket that cannot be created is an error that says so."""
    client = Client(
        listing=client_error("NoSuchBucket", "ListObjectsV2"),
        creating=client_error("AccessDenied", "CreateBucket"),
    )
    with pytest.raises(CacheError, match="Could not create the S3 bucket wheels: S3 denied"):
        check_bucket(client, config(**{"s3-create-bucket": "true"}))


def test_connect_without_credentials_is_anonymous(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without credentials the client does not sign its requests, and says it is anonymous."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client, anonymous = connect(config())
    assert anonymous
    assert client.meta.endpoint_url == "http://127.0.0.1:9"


def test_connect_with_credentials_signs(monkeypatch: pytest.MonkeyPatch) -> None:
    """With credentials in the environment, the client is not anonymous."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    _, anonymous = connect(config())
    assert not anonymous


def test_invalid_url_is_a_cache_error() -> None:
    """An s3-url that boto3 rejects is a configuration problem, said as such."""
    with pytest.raises(CacheError, match="Invalid s3-url 'not a url'"):
        connect(config(**{"s3-url": "not a url"}))


def test_missing_boto3_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without boto3, the error names the extra to install."""
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(CacheError, match=r"pip install 'pip-accel\[s3\]'"):
        s3_client.import_boto3()
