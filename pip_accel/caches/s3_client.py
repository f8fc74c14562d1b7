"""Everything of the S3 cache backend that touches boto3: the client and its errors.

Imported only when the S3 bucket is first used, since importing boto3 takes
a noticeable part of a second.
"""

import logging
from typing import Any

from pip_accel.config import Config
from pip_accel.exceptions import CacheError, CacheWriteRefusedError

logger = logging.getLogger(__name__)

MISSING_BUCKET = {"NoSuchBucket"}
"""Error codes with which S3 says that a bucket does not exist."""

BAD_CREDENTIALS = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"}
"""Error codes with which S3 refuses the credentials themselves."""

DENIED = {"AccessDenied", "403", "Forbidden", "AllAccessDisabled"}
"""Error codes with which S3 refuses an operation to valid credentials."""

ADVICE = [
    (MISSING_BUCKET, "the bucket does not exist; create it, or set s3-create-bucket = true"),
    (
        BAD_CREDENTIALS,
        "S3 refused the credentials ({code}); check AWS_ACCESS_KEY_ID and"
        " AWS_SECRET_ACCESS_KEY, or ~/.aws/credentials",
    ),
    (DENIED, "S3 denied access ({code}); check the credentials and the bucket policy"),
]
"""What S3's error codes mean for the user, and what to do about them."""


def connect(config: Config) -> tuple[Any, bool]:
    """A client for the configured S3 service, and whether it is anonymous (no credentials)."""
    boto3 = import_boto3()
    from botocore import UNSIGNED
    from botocore.config import Config as BotoConfig

    session = boto3.session.Session()
    anonymous = session.get_credentials() is None
    settings = BotoConfig(
        connect_timeout=config.s3_timeout,
        read_timeout=config.s3_timeout,
        retries={"total_max_attempts": config.s3_retries + 1, "mode": "standard"},
        signature_version=UNSIGNED if anonymous else None,
        max_pool_connections=max(10, config.s3_concurrency),
    )
    try:
        client = session.client("s3", endpoint_url=config.s3_url, config=settings)
    except ValueError as error:
        raise CacheError(f"Invalid s3-url {config.s3_url!r}: {error}") from error
    return client, anonymous


def import_boto3() -> Any:
    """The boto3 module, or a :class:`CacheError` that says how to install it."""
    try:
        import boto3
    except ImportError as error:
        raise CacheError(
            f"The S3 cache needs boto3, which is not installed ({error});"
            " install it with: pip install 'pip-accel[s3]'"
        ) from error
    return boto3


def check_bucket(client: Any, config: Config) -> None:
    """Make sure the bucket exists, creating it when the configuration says so."""
    bucket = config.s3_bucket
    try:
        # Not head_bucket: its answers have no body, so no error code tells why it failed.
        client.list_objects_v2(Bucket=bucket, MaxKeys=1)
        return
    except Exception as error:
        problem = translate(error, f"Could not use the S3 bucket {bucket}")
        if not (config.s3_create_bucket and error_code(error) in MISSING_BUCKET):
            raise problem from error
    try:
        client.create_bucket(Bucket=bucket)
    except Exception as error:
        raise translate(error, f"Could not create the S3 bucket {bucket}") from error
    logger.info("Created the S3 bucket %s for the binary cache.", bucket)


def error_code(error: BaseException) -> str:
    """The error code of an S3 error response, or an empty string."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return ""
    return str(response.get("Error", {}).get("Code", ""))


def connection_failure(error: BaseException) -> str | None:
    """What went wrong with the connection to S3, as a phrase; None when it was not that.

    An endpoint that cannot be reached (refused, unknown host, connect timeout)
    and a connection lost while S3 answers (closed, read timeout, a body cut
    short) are outages, not answers of S3 about an object: the binary cache
    then disables the backend for the rest of the run, with one warning.
    """
    from botocore.exceptions import (
        ConnectionClosedError,
        IncompleteReadError,
        ReadTimeoutError,
        ResponseStreamingError,
    )
    from botocore.exceptions import ConnectionError as Unreachable
    from urllib3.exceptions import ProtocolError

    text = (str(error) or type(error).__name__).rstrip(".")
    if isinstance(error, Unreachable | ConnectionRefusedError):
        return f"the S3 endpoint could not be reached ({text})"
    lost = (ConnectionClosedError, ReadTimeoutError, ResponseStreamingError, IncompleteReadError)
    if isinstance(error, (*lost, ProtocolError, ConnectionError)):
        return f"the connection to the S3 endpoint was lost ({text})"
    return None


def translate(error: BaseException, doing: str, writing: bool = False) -> CacheError:
    """A :class:`CacheError` that says what went wrong with S3 and what to do about it."""
    from botocore.exceptions import BotoCoreError, ClientError

    lost = connection_failure(error)
    if lost:
        return CacheError(f"{doing}: {lost}; check s3-url, s3-timeout and the network")
    if isinstance(error, BotoCoreError):
        return CacheError(f"{doing}: {error}; check s3-url, s3-timeout and the network")
    if not isinstance(error, ClientError):
        return CacheError(f"{doing}: {type(error).__name__}: {error}")
    code = error_code(error)
    if code in DENIED and writing:
        return CacheWriteRefusedError(
            f"{doing}: S3 denied the upload ({code}); these credentials may read the bucket"
            " but not write to it (set s3-readonly = true to stop trying)"
        )
    for codes, advice in ADVICE:
        if code in codes:
            return CacheError(f"{doing}: {advice.format(code=code)}")
    return CacheError(f"{doing}: S3 answered {code or 'an error'}: {error}")
