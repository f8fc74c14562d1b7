"""Signed shared entries: the keys of trusted writers, and signing and verifying objects.

Anyone who can write to a shared bucket could put a wheel there that every
worker installs. A trusted writer (the CI of a protected branch) therefore
signs each object it stores with its private key (``s3-signing-key``), and a
reader that is given the public keys it trusts (``s3-trusted-keys``) refuses
any object without a valid signature from one of them.

What is signed is the object's *name below the prefix* (such as
``v2/sources/six/six-1.16.0.tar.gz``) together with the sha256 of its
contents (see :func:`message`): a signed object moved or copied to another
name no longer verifies, while a bucket or prefix may be renamed or mirrored.
The signature (Ed25519, through the ``cryptography`` package) and the
fingerprint of the key that made it are stored beside the object, in the
object's metadata (:data:`SIGNATURE` and :data:`KEY_ID`).

Private keys are read in PEM (PKCS8) or OpenSSH form, unencrypted; public keys
in OpenSSH's one-line form (``ssh-ed25519 AAAA... comment``), as
:func:`keygen` writes them and as ``ssh-keygen -t ed25519`` does too.
"""

import base64
import binascii
import hashlib
import logging
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from pip_accel.config import Config
from pip_accel.exceptions import SigningKeyError

try:
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )
except ImportError as error:  # the s3 extra is not installed
    raise SigningKeyError(
        f"Signing and verifying the S3 cache needs the cryptography package ({error});"
        " install it with: pip install 'pip-accel[s3]'"
    ) from error

logger = logging.getLogger(__name__)

SIGNATURE = "signature"
"""The metadata field of an object's signature, base64 (S3: ``x-amz-meta-signature``)."""

KEY_ID = "signing-key"
"""The metadata field of the signing key's fingerprint (S3: ``x-amz-meta-signing-key``)."""

DOMAIN = "pip-accel signed object 1"
"""The first line of every signed message, so that a signature means nothing anywhere else."""

KEY_TYPE = "ssh-ed25519"
"""The only kind of public key that pip-accel reads."""

SHA256 = re.compile("[0-9a-f]{64}")
"""A sha256 in hex, as objects record it."""

KEYGEN_HINT = "make one with: pip-accel cache keygen FILE"
"""How to get a usable key, for error messages."""


def message(name: str, sha256: str) -> bytes:
    """The bytes signed for the object ``name`` (below the prefix) with contents of ``sha256``.

    Three lines: :data:`DOMAIN`, the name, the sha256 in hex. A name with a
    line break, or a malformed sha256, would make the lines ambiguous and is
    refused with :class:`ValueError`.
    """
    if "\n" in name or not SHA256.fullmatch(sha256):
        raise ValueError(f"cannot sign the name {name!r} with the sha256 {sha256!r}")
    return f"{DOMAIN}\n{name}\n{sha256}\n".encode()


def fingerprint(key: Ed25519PublicKey) -> str:
    """The fingerprint of a public key as ``ssh-keygen -l`` prints it: ``SHA256:<base64>``."""
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    digest = hashlib.sha256(base64.b64decode(line.split()[1])).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class Signer:
    """A trusted writer's private key, which signs what the writer stores."""

    key: Ed25519PrivateKey
    path: Path

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public key that verifies this signer's signatures."""
        return self.key.public_key()

    @property
    def key_id(self) -> str:
        """The fingerprint of the key, stored with each signature."""
        return fingerprint(self.public_key)

    def sign(self, name: str, sha256: str) -> dict[str, str]:
        """The metadata that signs the object ``name`` with contents of ``sha256``."""
        signature = self.key.sign(message(name, sha256))
        return {SIGNATURE: base64.b64encode(signature).decode(), KEY_ID: self.key_id}


@dataclass(frozen=True)
class TrustedKeys:
    """The public keys whose signatures a reader accepts, by fingerprint."""

    keys: Mapping[str, Ed25519PublicKey]

    def refusal(self, name: str, sha256: str, metadata: Mapping[str, str]) -> str | None:
        """Why the object ``name`` with contents of ``sha256`` is not to be trusted; None if it is.

        ``metadata`` is what the object was stored with (:func:`Signer.sign`).
        """
        signature, key_id = metadata.get(SIGNATURE), metadata.get(KEY_ID)
        if not signature or not key_id:
            return "it has no signature"
        key = self.keys.get(key_id)
        if key is None:
            return f"it is signed by the key {key_id}, which s3-trusted-keys does not name"
        try:
            key.verify(base64.b64decode(signature, validate=True), message(name, sha256))
        except (InvalidSignature, binascii.Error, ValueError):
            return (
                f"its signature by the key {key_id} does not match its name and contents"
                " (it was changed or moved after it was signed)"
            )
        return None

    def including(self, signer: Signer | None) -> "TrustedKeys":
        """These keys and the public key of ``signer``, whose own signatures are trusted too."""
        if signer is None:
            return self
        return TrustedKeys({**self.keys, signer.key_id: signer.public_key})


@dataclass(frozen=True)
class Keys:
    """The keys of one run of the S3 cache: what it signs with, and whom it trusts."""

    signer: Signer | None
    """The key that signs every object this run stores (None: objects are not signed)."""
    trusted: TrustedKeys | None
    """The keys that every object this run reads must be signed by (None: no verification)."""

    def refusal(self, name: str, sha256: str, metadata: Mapping[str, str]) -> str | None:
        """Why a downloaded object is refused; None when it is trusted or nothing is verified."""
        return self.trusted.refusal(name, sha256, metadata) if self.trusted else None

    def replaces(self, name: str, metadata: Mapping[str, str]) -> bool:
        """Whether a signing writer stores its own copy over the existing object ``name``.

        It does when the object lacks a valid signature of a key it trusts
        (its own, or one of ``s3-trusted-keys``): otherwise a bucket that held
        unsigned objects before its writers signed would keep them forever.
        """
        if self.signer is None:
            return False
        trusted = (self.trusted or TrustedKeys({})).including(self.signer)
        sha256 = metadata.get("sha256", "")
        return not SHA256.fullmatch(sha256) or trusted.refusal(name, sha256, metadata) is not None


def load_keys(config: Config) -> Keys:
    """The configured keys, read now; :class:`SigningKeyError` when one is unusable.

    A writer that verifies trusts its own key too (it could sign anything anyway).
    """
    signer = load_signing_key(config.s3_signing_key) if config.s3_signing_key else None
    text = config.s3_trusted_keys
    trusted = parse_trusted_keys(text).including(signer) if text else None
    return Keys(signer, trusted)


def check_keys(config: Config) -> None:
    """Read the configured keys once at start, so that a bad one stops pip-accel before any work.

    A signing key on a read-only worker is refused too: a worker that writes
    nothing signs nothing, and the workers that should not write (those that
    run unreviewed code, such as pull requests) must not hold the key either.
    """
    if config.s3_signing_key and config.s3_readonly:
        raise SigningKeyError(
            f"The signing key {config.s3_signing_key} (s3-signing-key) is set on a read-only"
            " worker (s3-readonly): a worker that writes nothing needs no key, and one that"
            " must not write must not hold it; unset s3-signing-key or s3-readonly."
        )
    keys = load_keys(config)
    if keys.signer:
        logger.debug("Signing what is stored in S3 with the key %s.", keys.signer.key_id)
    if keys.trusted:
        logger.debug("Trusting S3 objects signed by %s.", ", ".join(sorted(keys.trusted.keys)))


def load_signing_key(path: Path) -> Signer:
    """The Ed25519 private key in the file ``path`` (PEM PKCS8 or OpenSSH form, unencrypted)."""
    where = f"The signing key file {path} (s3-signing-key)"
    try:
        data = path.read_bytes()
    except FileNotFoundError as error:
        raise SigningKeyError(f"{where} does not exist; {KEYGEN_HINT}.") from error
    except OSError as error:
        raise SigningKeyError(f"{where} cannot be read: {error.strerror}.") from error
    if data.lstrip().startswith(KEY_TYPE.encode()):
        raise SigningKeyError(
            f"{where} holds a public key; give the private key (the file without .pub)."
        )
    key: object
    try:
        if data.lstrip().startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----"):
            key = serialization.load_ssh_private_key(data, password=None)
        else:
            key = serialization.load_pem_private_key(data, password=None)
    except TypeError as error:  # cryptography's way of saying that a password is needed
        raise SigningKeyError(
            f"{where} is encrypted; pip-accel needs it unencrypted ({KEYGEN_HINT})."
        ) from error
    except (ValueError, UnsupportedAlgorithm) as error:
        raise SigningKeyError(
            f"{where} is not a private key in PEM (PKCS8) or OpenSSH form; {KEYGEN_HINT}."
        ) from error
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(
            f"{where} is not an Ed25519 key; pip-accel signs with Ed25519 keys only"
            f" ({KEYGEN_HINT})."
        )
    return Signer(key, path)


def parse_trusted_keys(text: str) -> TrustedKeys:
    """The keys of ``s3-trusted-keys``: public keys and files of them, separated by commas or lines.

    An entry whose first word is a key type (``ssh-ed25519``) is a key in
    OpenSSH's one-line form; any other entry is the path of a file that holds
    such lines (blank lines and lines starting with ``#`` are skipped), such
    as the ``.pub`` file of :func:`keygen`.
    """
    keys: dict[str, Ed25519PublicKey] = {}
    for entry in (part.strip() for part in re.split(r"[,\n]", text)):
        if not entry:
            continue
        if _is_inline_key(entry):
            key = parse_public_key(entry, f"The trusted key {_abridged(entry)} (s3-trusted-keys)")
            keys[fingerprint(key)] = key
        else:
            keys.update((fingerprint(key), key) for key in _read_key_file(Path(entry)))
    if not keys:
        raise SigningKeyError(
            "s3-trusted-keys names no public key; give 'ssh-ed25519 AAAA...' lines, or files"
            " that hold them, separated by commas or line breaks."
        )
    return TrustedKeys(keys)


def _is_inline_key(entry: str) -> bool:
    """Whether an entry of ``s3-trusted-keys`` is a key itself rather than the path of a file."""
    words = entry.split()
    return len(words) >= 2 and words[0].startswith(("ssh-", "ecdsa-", "sk-"))


def _abridged(entry: str) -> str:
    """The start of a key, enough to recognize it in a message."""
    return repr(entry if len(entry) <= 40 else entry[:37] + "...")


def _read_key_file(path: Path) -> Iterator[Ed25519PublicKey]:
    """The public keys in a file of ``s3-trusted-keys``, one per line."""
    path = path.expanduser()
    where = f"The trusted key file {path} (s3-trusted-keys)"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as error:
        raise SigningKeyError(
            f"{where} does not exist; give the .pub file of the signing key, or the key itself."
        ) from error
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not text"
        raise SigningKeyError(f"{where} cannot be read: {reason}.") from error
    found = False
    for number, line in enumerate(lines, start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            found = True
            yield parse_public_key(line.strip(), f"{where}, line {number},")
    if not found:
        raise SigningKeyError(f"{where} holds no public key; give the .pub file of the key.")


def parse_public_key(line: str, where: str) -> Ed25519PublicKey:
    """An Ed25519 public key in OpenSSH's one-line form; ``where`` starts the error message."""
    expected = f"expected 'ssh-ed25519 AAAA... comment', such as the .pub file of {KEYGEN_HINT}"
    try:
        key = serialization.load_ssh_public_key(line.encode())
    except (ValueError, UnsupportedAlgorithm) as error:
        raise SigningKeyError(
            f"{where} is not a public key in OpenSSH form; {expected}."
        ) from error
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(
            f"{where} is not an Ed25519 key (pip-accel reads those only); {expected}."
        )
    return key


def keygen(path: Path) -> None:
    """Write a new Ed25519 private key to ``path`` (mode 0600) and its public key to ``path.pub``.

    The private key is in PEM (PKCS8) form, for ``s3-signing-key``; the public
    key is one OpenSSH line, for ``s3-trusted-keys``. An existing file is never
    overwritten: a key that others trust would be lost.
    """
    public_path = path.with_name(path.name + ".pub")
    for existing in (path, public_path):
        if os.path.lexists(existing):
            raise _exists(existing)
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    _write_new(path, private, 0o600)
    try:
        _write_new(public_path, public + f" pip-accel:{path.name}\n".encode(), 0o644)
    except BaseException:
        path.unlink()  # half a key pair is no use
        raise
    logger.debug(
        "Wrote the key pair %s with the fingerprint %s.", path, fingerprint(key.public_key())
    )


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Write a file that must not exist yet, created with ``mode`` (less the umask)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError as error:
        raise _exists(path) from error
    except OSError as error:
        raise SigningKeyError(f"Cannot write the key file {path}: {error.strerror}.") from error
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
    except OSError as error:
        path.unlink()
        raise SigningKeyError(f"Cannot write the key file {path}: {error.strerror}.") from error


def _exists(path: Path) -> SigningKeyError:
    """The error of :func:`keygen` when a file of the new key exists already."""
    return SigningKeyError(
        f"The file {path} exists already and pip-accel never overwrites a key;"
        " choose another FILE or remove the old key first."
    )
