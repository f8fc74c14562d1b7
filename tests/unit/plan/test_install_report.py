"""Unit tests of ``pip_accel.plan.install_report``: pip's installation report, made without pip.

The JSON form of core metadata is checked against pip's own conversion of the same text
(pip's internals are imported here, in the tests only, as the reference).
"""

import email
import io
import json
import os
import stat
from pathlib import Path

import pytest
from packaging.version import Version
from pip._internal.metadata._json import msg_to_json

from pip_accel.exceptions import ReportError
from pip_accel.pip.runner import pip_version
from pip_accel.plan.install_report import (
    archive_info,
    entry,
    installation_report,
    metadata_json,
    split_keywords,
    would_install,
    write_report,
)

METADATA = """\
Metadata-Version: 2.4
Name: Demo_Pkg
Version: 1.0
Dynamic: license-file
Summary: A demonstration
Keywords: one two  three
Home-page: https://example.org
Author-email: Jane Doe <jane@example.org>
License-Expression: MIT
License-File: LICENSE
License-File: NOTICE
Classifier: Programming Language :: Python :: 3
Classifier: Typing :: Typed
Requires-Dist: packaging>=23
Requires-Dist: rich; extra == "pretty"
Requires-Python: >=3.11
Project-URL: Source, https://example.org/src
Provides-Extra: pretty
X-Not-Core: dropped
Description-Content-Type: text/x-rst

Demo
====

Ünïcode in the body.
"""


@pytest.mark.skipif(
    Version(pip_version()) < Version("23.1"), reason="pip 23.0 converts metadata in an older way"
)
def test_metadata_json_is_pips_json_form() -> None:
    """Every field, list and body as pip turns them into JSON, and nothing else."""
    assert metadata_json(METADATA) == msg_to_json(email.message_from_string(METADATA))


def test_metadata_json_fields() -> None:
    """Names in lower case with ``_``; repeated fields are lists; unknown fields dropped."""
    metadata = metadata_json(METADATA)
    assert metadata["name"] == "Demo_Pkg"
    assert metadata["home_page"] == "https://example.org"
    assert metadata["license_file"] == ["LICENSE", "NOTICE"]
    assert metadata["requires_dist"] == ["packaging>=23", 'rich; extra == "pretty"']
    assert metadata["keywords"] == ["one", "two", "three"]
    assert metadata["description"] == "Demo\n====\n\nÜnïcode in the body.\n"
    assert "x_not_core" not in metadata


def test_description_header_without_a_body() -> None:
    """An older ``Description`` header stands, when there is no body to replace it."""
    text = "Metadata-Version: 1.1\nName: old\nVersion: 0.1\nDescription: In the header\n"
    assert metadata_json(text)["description"] == "In the header"
    assert metadata_json(text) == msg_to_json(email.message_from_string(text))


@pytest.mark.parametrize(
    ("value", "words"),
    [("a, b ,c", ["a", "b", "c"]), ("a b\tc", ["a", "b", "c"]), ("", [])],
)
def test_keywords_split_at_commas_or_spaces(value: str, words: list[str]) -> None:
    """Commas win over spaces: ``a b, c`` is two keywords."""
    assert split_keywords(value) == words


def test_entry_has_pips_keys_and_extras_only_when_requested() -> None:
    """``requested_extras`` appears for a requested distribution with extras, sorted."""
    info = archive_info("file:///sources/demo-1.0.tar.gz", "ab" * 32)
    assert info["archive_info"] == {"hashes": {"sha256": "ab" * 32}, "hash": "sha256=" + "ab" * 32}
    metadata = {"name": "demo", "version": "1.0"}
    requested = entry(metadata, info, True, False, ["socks", "async", "socks"])
    assert sorted(requested) == [
        "download_info", "is_direct", "is_yanked", "metadata", "requested", "requested_extras"
    ]  # fmt: skip
    assert requested["requested_extras"] == ["async", "socks"]
    assert "requested_extras" not in entry(metadata, info, True)
    assert "requested_extras" not in entry(metadata, info, False, False, ["socks"])


def test_report_document() -> None:
    """Version 1, pip's version, the entries in order, and the target's markers."""
    first, second = {"name": "b", "version": "1"}, {"name": "a", "version": "2"}
    items = [entry(first, {}, True), entry(second, {}, False)]
    report = installation_report(items, {"python_version": "3.11"}, "26.3")
    assert report == {
        "version": "1",
        "pip_version": "26.3",
        "install": items,
        "environment": {"python_version": "3.11"},
    }


def test_would_install_sorts_as_pip_does() -> None:
    """Names as the metadata writes them, sorted as strings (upper case first); None if empty."""
    pairs = [("click", "8.1.7"), ("Jinja2", "3.1.4"), ("blinker", "1.9")]
    items = [entry({"name": name, "version": version}, {}, True) for name, version in pairs]
    assert would_install(items) == "Would install Jinja2-3.1.4 blinker-1.9 click-8.1.7"
    assert would_install([]) is None


def test_report_to_standard_output() -> None:
    """``-`` writes the JSON to the given stream."""
    stream = io.StringIO()
    write_report({"version": "1", "install": []}, "-", stream)
    assert json.loads(stream.getvalue()) == {"version": "1", "install": []}


def test_report_file_is_written_whole_with_ordinary_permissions(tmp_path: Path) -> None:
    """A new file gets the umask's mode, an existing one keeps its own; no temporary is left."""
    path = tmp_path / "report.json"
    write_report({"name": "ünï"}, str(path), io.StringIO())
    assert json.loads(path.read_text(encoding="utf-8")) == {"name": "ünï"}
    assert "ünï" in path.read_text(encoding="utf-8"), "non-ASCII text is written as it is"
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    path.chmod(0o640)
    write_report({"again": True}, str(path), io.StringIO())
    assert json.loads(path.read_text()) == {"again": True}
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(item.name for item in tmp_path.iterdir()) == ["report.json"]


def test_report_through_a_symbolic_link_writes_its_target(tmp_path: Path) -> None:
    """As ``open`` would: the link stays, the file it names gets the report."""
    target, link = tmp_path / "real.json", tmp_path / "link.json"
    target.write_text("{}")
    link.symlink_to(target)
    write_report({"version": "1"}, str(link), io.StringIO())
    assert link.is_symlink()
    assert json.loads(target.read_text()) == {"version": "1"}


def test_report_that_cannot_be_written_is_one_clear_error(tmp_path: Path) -> None:
    """A missing directory: an error that names the file and the reason; nothing written."""
    missing = tmp_path / "missing" / "report.json"
    with pytest.raises(ReportError) as raised:
        write_report({"version": "1"}, str(missing), io.StringIO())
    message = str(raised.value)
    assert str(missing) in message and "No such file or directory" in message
    assert "\n" not in message
    assert list(tmp_path.iterdir()) == []


def test_report_that_cannot_replace_a_directory_leaves_no_temporary(tmp_path: Path) -> None:
    """A directory in the report's place: an error, and the temporary file is removed."""
    (tmp_path / "report.json").mkdir()
    with pytest.raises(ReportError):
        write_report({"version": "1"}, str(tmp_path / "report.json"), io.StringIO())
    assert [item.name for item in tmp_path.iterdir()] == ["report.json"]
