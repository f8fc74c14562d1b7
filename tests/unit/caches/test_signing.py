"""Signed shared entries, unit level: keys, signatures and the options that name them.

The end-to-end tests (a signed writer and verifying readers on moto's S3 server) are in
``tests/e2e/fleet/test_signed_entries.py``; these check each rule of :mod:`pip_accel.caches.signing`
directly.
"""

import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pip_accel.caches.signing import (
    KEY_ID,
    SIGNATURE,
    Keys,
    Signer,
    TrustedKeys,
    check_keys,
    fingerprint,
    keygen,
    load_signing_key,
    message,
    parse_trusted_keys,
)
from pip_accel.cli.main import check_keys as check_configured_keys
from pip_accel.config import Config
from pip_accel.exceptions import SigningKeyError

pytestmark = pytest.mark.backends  # the S3 cache's signatures: pip-independent

NAME = "v2/sources/six/six-1.16.0.tar.gz"
SHA256 = "a" * 64


def new_signer(tmp_path: Path, name: str = "key") -> Signer:
    """A signer whose key pair was written by ``keygen`` into ``tmp_path``."""
    keygen(tmp_path / name)
    return load_signing_key(tmp_path / name)


def public_line(signer: Signer) -> str:
    """The public key of ``signer`` in OpenSSH's one-line form, with a comment."""
    raw = signer.public_key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return raw.decode() + " a comment"


def test_a_signature_holds_for_its_name_and_sha256_from_a_trusted_key_only(
    tmp_path: Path,
) -> None:
    """Tampered contents, another name, another key, no signature: each refused, and why."""
    signer, stranger = new_signer(tmp_path, "one"), new_signer(tmp_path, "two")
    trusted = TrustedKeys({signer.key_id: signer.public_key})
    metadata = signer.sign(NAME, SHA256)
    assert set(metadata) == {SIGNATURE, KEY_ID}
    assert metadata[KEY_ID] == signer.key_id
    assert trusted.refusal(NAME, SHA256, metadata) is None
    moved = "does not match its name and contents"
    assert moved in str(trusted.refusal(NAME, "b" * 64, metadata))
    assert moved in str(trusted.refusal("v2/sources/six/six-1.17.0.tar.gz", SHA256, metadata))
    assert moved in str(trusted.refusal(NAME, SHA256, {**metadata, SIGNATURE: "not base64!"}))
    unknown = trusted.refusal(NAME, SHA256, stranger.sign(NAME, SHA256))
    assert (
        unknown == f"it is signed by the key {stranger.key_id}, which s3-trusted-keys does not name"
    )
    assert trusted.refusal(NAME, SHA256, {"sha256": SHA256}) == "it has no signature"
    assert trusted.including(stranger).refusal(NAME, SHA256, stranger.sign(NAME, SHA256)) is None


def test_the_signed_message_is_unambiguous() -> None:
    """A name with a line break or a malformed sha256 cannot be signed."""
    assert message(NAME, SHA256) == f"pip-accel signed object 1\n{NAME}\n{SHA256}\n".encode()
    with pytest.raises(ValueError):
        message(f"{NAME}\n{SHA256}", SHA256)
    with pytest.raises(ValueError):
        message(NAME, "A" * 64)


def test_a_signing_writer_replaces_what_it_does_not_trust(tmp_path: Path) -> None:
    """Unsigned or strangers' objects are replaced; its own and trusted writers' are kept."""
    signer, colleague, stranger = (new_signer(tmp_path, name) for name in ("a", "b", "c"))
    trusted = TrustedKeys({colleague.key_id: colleague.public_key})
    keys = Keys(signer, trusted)
    stored = {"sha256": SHA256}
    assert keys.replaces(NAME, stored)
    assert keys.replaces(NAME, {**stored, **stranger.sign(NAME, SHA256)})
    assert keys.replaces(NAME, {**signer.sign(NAME, SHA256)})  # no sha256 recorded
    assert not keys.replaces(NAME, {**stored, **signer.sign(NAME, SHA256)})
    assert not keys.replaces(NAME, {**stored, **colleague.sign(NAME, SHA256)})
    assert not Keys(None, trusted).replaces(NAME, stored), "a reader replaces nothing"
    assert Keys(signer, None).refusal(NAME, SHA256, stored) is None, "no trusted keys: as before"


def test_keygen_writes_a_private_key_and_its_public_key(tmp_path: Path) -> None:
    """0600 private key in PEM, one OpenSSH line beside it; both read by the options."""
    path = tmp_path / "ci-key"
    keygen(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    line = (tmp_path / "ci-key.pub").read_text()
    assert line.startswith("ssh-ed25519 AAAA") and line.endswith(" pip-accel:ci-key\n")
    signer = load_signing_key(path)
    (from_file,) = parse_trusted_keys(str(tmp_path / "ci-key.pub")).keys
    (inline,) = parse_trusted_keys(line).keys
    assert signer.key_id == from_file == inline
    assert signer.key_id.startswith("SHA256:") and not signer.key_id.endswith("=")
    if shutil.which("ssh-keygen"):  # the fingerprint is the one OpenSSH shows
        shown = subprocess.run(
            ["ssh-keygen", "-l", "-f", tmp_path / "ci-key.pub"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert shown.stdout.split()[1] == signer.key_id


@pytest.mark.parametrize("existing", ["ci-key", "ci-key.pub"])
def test_keygen_never_overwrites_a_key(tmp_path: Path, existing: str) -> None:
    """An existing key file, or its .pub, stops keygen before it writes anything."""
    (tmp_path / existing).write_text("precious\n")
    with pytest.raises(SigningKeyError, match="exists already and pip-accel never overwrites"):
        keygen(tmp_path / "ci-key")
    assert sorted(path.name for path in tmp_path.iterdir()) == [existing]
    assert (tmp_path / existing).read_text() == "precious\n"


def test_keygen_into_a_missing_directory_says_so(tmp_path: Path) -> None:
    """A directory that does not exist is one line naming the file."""
    with pytest.raises(SigningKeyError, match=r"Cannot write the key file .*/nowhere/key: No such"):
        keygen(tmp_path / "nowhere" / "key")


def test_an_openssh_private_key_is_read(tmp_path: Path) -> None:
    """A key made by ``ssh-keygen -t ed25519`` (OpenSSH's own format) signs too."""
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "id_ed25519"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    assert load_signing_key(path).key_id == fingerprint(key.public_key())


def _encrypted(key: Ed25519PrivateKey) -> bytes:
    """A private key in PEM, encrypted with a password."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )


def _ec_key() -> bytes:
    """A private key that is not Ed25519."""
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.mark.parametrize(
    ("contents", "problem"),
    [
        (None, "does not exist; make one with: pip-accel cache keygen FILE."),
        (b"ssh-ed25519 AAAA", "holds a public key; give the private key"),
        (b"-----BEGIN PRIVATE KEY-----\ngarbage\n", "is not a private key in PEM (PKCS8)"),
        (_encrypted(Ed25519PrivateKey.generate()), "is encrypted; pip-accel needs it unencrypted"),
        (_ec_key(), "is not an Ed25519 key"),
    ],
    ids=["missing", "public", "garbage", "encrypted", "ecdsa"],
)
def test_an_unusable_signing_key_is_one_line_naming_the_file(
    tmp_path: Path, contents: bytes | None, problem: str
) -> None:
    """Each way a private key file can be wrong has its own sentence, with the file's name."""
    path = tmp_path / "ci-key"
    if contents is not None:
        path.write_bytes(contents)
    with pytest.raises(SigningKeyError) as caught:
        load_signing_key(path)
    text = str(caught.value)
    assert text.startswith(f"The signing key file {path} (s3-signing-key) ")
    assert problem in text and "\n" not in text


def test_trusted_keys_are_inline_keys_and_files_separated_by_commas_or_lines(
    tmp_path: Path,
) -> None:
    """Inline lines, files with comments and blank lines, in any mix."""
    signers = [new_signer(tmp_path, name) for name in ("a", "b", "c", "d")]
    listing = tmp_path / "trusted"
    listing.write_text(f"# CI keys\n\n{public_line(signers[2])}\n  {public_line(signers[3])}\n")
    text = f"{public_line(signers[0])}, {tmp_path / 'b.pub'}\n{listing},\n"
    assert set(parse_trusted_keys(text).keys) == {signer.key_id for signer in signers}


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (" , \n", "s3-trusted-keys names no public key"),
        ("ssh-ed25519 AAAAnot-a-key", "The trusted key 'ssh-ed25519 AAAAnot-a-key'"
         " (s3-trusted-keys) is not a public key in OpenSSH form"),
        ("{missing}", "The trusted key file {missing} (s3-trusted-keys) does not exist"),
        ("{empty}", "The trusted key file {empty} (s3-trusted-keys) holds no public key"),
        ("{private}", "The trusted key file {private} (s3-trusted-keys), line 1, is not a public"),
        ("{ecdsa}", "(s3-trusted-keys), line 1, is not an Ed25519 key"),
    ],
    ids=["nothing", "malformed", "missing", "empty", "private", "ecdsa"],
)  # fmt: skip
def test_unusable_trusted_keys_are_one_line(tmp_path: Path, entry: str, problem: str) -> None:
    """A wrong entry is named in one line that says what was expected."""
    paths = {name: tmp_path / name for name in ("missing", "empty", "private", "ecdsa")}
    paths["empty"].write_text("# nobody yet\n")
    keygen(paths["private"])
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    ssh = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    paths["ecdsa"].write_bytes(ssh + b"\n")
    with pytest.raises(SigningKeyError) as caught:
        parse_trusted_keys(entry.format(**paths))
    assert problem.format(**paths) in str(caught.value)
    assert "\n" not in str(caught.value)


def config(tmp_path: Path, **options: object) -> Config:
    """A configuration of an S3 cache with ``options`` (``_`` for ``-``), its data in tmp_path."""
    overrides = {name.replace("_", "-"): value for name, value in options.items()}
    overrides |= {"data-directory": str(tmp_path / "data"), "s3-bucket": "bucket"}
    return Config(overrides, environ={"HOME": str(tmp_path)})


def test_the_keys_are_checked_at_start(tmp_path: Path) -> None:
    """The command reads the keys of an S3 cache: a bad one stops pip-accel before any work."""
    keygen(tmp_path / "key")
    check_configured_keys(config(tmp_path, s3_signing_key=str(tmp_path / "key")))
    check_configured_keys(config(tmp_path, s3_trusted_keys=str(tmp_path / "key.pub")))
    with pytest.raises(SigningKeyError, match="does not exist"):
        check_configured_keys(config(tmp_path, s3_signing_key=str(tmp_path / "other")))
    with pytest.raises(SigningKeyError, match="is not a public key"):
        check_configured_keys(config(tmp_path, s3_trusted_keys=str(tmp_path / "key")))
    readonly = config(tmp_path, s3_signing_key=str(tmp_path / "key"), s3_readonly="true")
    with pytest.raises(SigningKeyError, match="unset s3-signing-key or s3-readonly"):
        check_keys(readonly)


def test_without_s3_the_keys_are_not_read_nor_cryptography_imported(tmp_path: Path) -> None:
    """Keys set without a bucket (say, in /etc/pip-accel.conf) cost nothing: S3 is off."""
    code = (
        "import sys; from pip_accel.config import Config;"
        " from pip_accel.cli.main import check_keys;"
        f" check_keys(Config({{'data-directory': {str(tmp_path)!r},"
        " 's3-signing-key': '/nonexistent', 's3-trusted-keys': 'ssh-ed25519 AAAA'}, environ={}));"
        " print('cryptography' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (result.returncode, result.stdout.strip()) == (0, "False"), result.stderr
