"""pip's installation report (format version 1) and its "Would install" line, made by pip-accel.

``pip install --report FILE`` describes what an install installs: for each
distribution its core metadata in the JSON form of PEP 566, where it comes
from (PEP 610's ``download_info``), and whether it was asked for. pip-accel
writes the same document from its own plan (see :mod:`pip_accel.plan.dry_run`),
without pip's internals: this module turns a wheel's ``METADATA`` into that
JSON form, puts the entries together and writes the document.

pip's JSON form of the metadata keeps the fields of the core metadata
specification only, each under its name in lower case with ``_`` for ``-``;
a field that may appear more than once is a list, ``Keywords`` is split (at
commas when it has any, else at white space), and the message's body is the
``description``.
"""

import json
import os
import stat
import uuid
from collections.abc import Iterable, Mapping
from email.parser import Parser
from pathlib import Path
from typing import Any, TextIO

from pip_accel.exceptions import ReportError

FORMAT_VERSION = "1"
"""The version of pip's installation report format that pip-accel writes."""

CORE_FIELDS: tuple[tuple[str, bool], ...] = (
    ("Metadata-Version", False), ("Name", False), ("Version", False), ("Dynamic", True),
    ("Platform", True), ("Supported-Platform", True), ("Summary", False),
    ("Description", False), ("Description-Content-Type", False), ("Keywords", False),
    ("Home-page", False), ("Download-URL", False), ("Author", False),
    ("Author-email", False), ("Maintainer", False), ("Maintainer-email", False),
    ("License", False), ("License-Expression", False), ("License-File", True),
    ("Classifier", True), ("Requires-Dist", True), ("Requires-Python", False),
    ("Requires-External", True), ("Project-URL", True), ("Provides-Extra", True),
    ("Provides-Dist", True), ("Obsoletes-Dist", True),
)  # fmt: skip
"""The fields of the core metadata, in the specification's order, and whether each may repeat."""

STDOUT = "-"
"""The report "file" that stands for standard output, as in pip."""


def metadata_json(text: str) -> dict[str, Any]:
    """The JSON form (PEP 566) of core metadata in its email form, as pip reports it."""
    message = Parser().parsestr(text)
    result: dict[str, Any] = {}
    for name, repeats in CORE_FIELDS:
        values = [str(value) for value in message.get_all(name, [])]
        if not values:
            continue
        key = name.lower().replace("-", "_")
        if repeats:
            result[key] = values
        elif key == "keywords":
            result[key] = split_keywords(values[0])
        else:
            result[key] = values[0]
    body = message.get_payload()
    if isinstance(body, str) and body:
        result["description"] = body
    return result


def split_keywords(value: str) -> list[str]:
    """The keywords of a ``Keywords`` field: comma-separated, or else separated by spaces."""
    if "," in value:
        return [word.strip() for word in value.split(",")]
    return value.split()


def archive_info(url: str, sha256: str) -> dict[str, Any]:
    """The ``download_info`` (PEP 610) of an archive at ``url``, with both hash forms pip writes."""
    return {"url": url, "archive_info": {"hashes": {"sha256": sha256}, "hash": f"sha256={sha256}"}}


def entry(
    metadata: dict[str, Any],
    download_info: dict[str, Any],
    requested: bool,
    is_direct: bool = False,
    requested_extras: Iterable[str] = (),
) -> dict[str, Any]:
    """One entry of the report's ``install`` list; ``requested_extras`` only when there are any.

    ``is_yanked`` is false: the local index knows nothing of yanked releases.
    """
    item: dict[str, Any] = {
        "download_info": download_info,
        "is_direct": is_direct,
        "is_yanked": False,
        "requested": requested,
        "metadata": metadata,
    }
    extras = sorted(set(requested_extras))
    if requested and extras:
        item["requested_extras"] = extras
    return item


def installation_report(
    items: Iterable[dict[str, Any]], environment: Mapping[str, str], pip_version: str
) -> dict[str, Any]:
    """The whole report: its entries in install order, and the target's marker environment."""
    return {
        "version": FORMAT_VERSION,
        "pip_version": pip_version,
        "install": list(items),
        "environment": dict(environment),
    }


def would_install(items: Iterable[dict[str, Any]]) -> str | None:
    """pip's line of a dry run: ``name-version`` of each entry, sorted; None for no entry.

    Names are those of the metadata, as written there (``Jinja2``), sorted as
    pip sorts them: by name and version, as plain strings.
    """
    pairs = sorted((str(item["metadata"]["name"]), str(item["metadata"]["version"]))
                   for item in items)  # fmt: skip
    if not pairs:
        return None
    return "Would install " + " ".join(f"{name}-{version}" for name, version in pairs)


def render(report: Mapping[str, Any]) -> str:
    """The report as pip writes it: JSON indented by two spaces, non-ASCII text as it is."""
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def write_report(report: Mapping[str, Any], destination: str, stdout: TextIO) -> None:
    """Write the report to the file ``destination``, or to ``stdout`` for ``-``.

    A file is written whole or not at all (see :func:`write_atomically`); one
    that cannot be written raises :class:`ReportError`.
    """
    text = render(report)
    if destination == STDOUT:
        stdout.write(text)
        stdout.flush()
        return
    try:
        write_atomically(Path(destination), text.encode("utf-8"))
    except OSError as error:
        reason = error.strerror or str(error)
        raise ReportError(
            f"Cannot write the installation report to {destination}: {reason}; name a file in"
            " a directory that exists and that you may write to."
        ) from error


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file under a temporary name next to it and rename it into place.

    Readers see the old file or the whole new one. The new file gets the
    permissions an ordinary ``open`` gives (the umask's; an existing file's
    own), unlike a private temporary file; a symbolic link is followed, and
    what is not a regular file (``/dev/stdout``) is written to directly.
    """
    target = Path(os.path.realpath(path))
    try:
        status: os.stat_result | None = target.stat()
    except FileNotFoundError:
        status = None
    if status is not None and not stat.S_ISREG(status.st_mode):
        with target.open("wb") as stream:
            stream.write(data)
        return
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        if status is not None:
            os.chmod(temporary, stat.S_IMODE(status.st_mode))
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
