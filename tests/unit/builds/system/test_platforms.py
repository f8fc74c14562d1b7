"""Unit tests of ``pip_accel.builds.system.platforms``: definitions, their checks, their tools."""

import os
from pathlib import Path

import pytest

from pip_accel.builds.system.analysis import COMMAND, HEADER, MissingFile
from pip_accel.builds.system.platforms import (
    DATA,
    SECTIONS,
    install_command,
    load_platforms,
    read_platform,
)
from pip_accel.exceptions import DefinitionError

from support.standins import calls, standins

SHIPPED = sorted(DATA.glob("*.ini"))

COMMON = [
    "lxml", "Pillow", "psycopg2", "mysqlclient", "pycurl", "cffi", "cryptography", "bcrypt",
    "python-ldap", "PyYAML", "gevent", "pyodbc",
]  # fmt: skip
"""Projects that the issue names; every platform must know them."""


def test_the_three_families_are_shipped() -> None:
    """Debian and Ubuntu, Fedora and RHEL, and Alpine each have a definition."""
    assert [path.name for path in SHIPPED] == ["alpine.ini", "debian.ini", "fedora.ini"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_shipped_file_is_valid_and_complete(path: Path) -> None:
    """Syntax, known sections, no repeated key (read_platform checks), 40+ projects, the common."""
    platform = read_platform(path)
    text = path.read_text(encoding="utf-8")
    assert {line.strip("[]\n") for line in text.splitlines() if line.startswith("[")} == SECTIONS
    assert len(platform.tables["projects"]) >= 40
    for project in COMMON:
        assert platform.for_project(project), f"{path.name} does not know {project}"
    assert platform.for_file(MissingFile(HEADER, "openssl/ssl.h"))  # a glob key
    assert platform.for_file(MissingFile(COMMAND, "pg_config"))


def test_the_same_projects_everywhere_but_systemd_and_ssdeep() -> None:
    """The families cover the same projects, but for two that Alpine cannot build."""
    projects = {path.stem: set(read_platform(path).tables["projects"]) for path in SHIPPED}
    assert projects["debian"] == projects["fedora"]
    assert projects["debian"] - projects["alpine"] == {"systemd-python", "ssdeep"}


def write(directory: Path, name: str, text: str) -> Path:
    """Write a definition file and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


PLATFORM = "[platform]\nname = Tiny\napplies = true\ninstalled = true\ninstall = true\n"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        (PLATFORM + "[projects]\nlxml = a\nlxml = b\n", "option 'lxml' in section 'projects'"),
        (PLATFORM + "[projects]\nPillow = a\npillow = b\n", "names 'pillow' twice in [projects]"),
        (PLATFORM + "[projects]\n[projects]\n", "section 'projects' already exists"),
        (PLATFORM + "[packages]\nlxml = a\n", "unknown section(s) packages"),
        (PLATFORM + "[headers]\nzlib.h =\n", "names no package for 'zlib.h'"),
        ("[platform]\nname = Tiny\napplies = true\ninstall = true\n", "no key(s) installed"),
        (PLATFORM + "instal = typo\n", "unknown key(s) instal"),
        (PLATFORM + "search-output = ^(\\S+)$\n", "no group named 'name'"),
        ("[projects]\nlxml = a\n", "has no [platform] section"),
        ("lxml = a\n", "File contains no section headers"),
    ],
)
def test_broken_definition_is_refused(tmp_path: Path, text: str, complaint: str) -> None:
    """Each mistake in a definition is an error that names the file and the mistake."""
    path = write(tmp_path, "tiny.ini", text)
    with pytest.raises(DefinitionError) as caught:
        read_platform(path)
    assert str(path) in str(caught.value) and complaint in str(caught.value)


def test_user_files_extend_and_add(tmp_path: Path) -> None:
    """A file named like a shipped one overrides and adds entries; a new name adds a family."""
    write(tmp_path, "debian.ini", "[projects]\nlxml = my-libxml-dev\nmy-project = libmy-dev\n")
    write(tmp_path, "tiny.ini", PLATFORM + "[projects]\nlxml = tiny-xml\n")
    platforms = {platform.key: platform for platform in load_platforms(tmp_path)}
    assert [p.key for p in load_platforms(tmp_path)] == ["debian", "fedora", "alpine", "tiny"]
    debian = platforms["debian"]
    assert debian.for_project("lxml") == ("my-libxml-dev",)
    assert debian.for_project("My_Project") == ("libmy-dev",)
    assert debian.for_project("psycopg2") == ("libpq-dev",)  # the shipped entries stay
    assert debian.install_command == ["apt-get", "install", "--yes"]
    assert platforms["tiny"].for_project("lxml") == ("tiny-xml",)


def test_searches_with_apt_file_and_dnf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file no table names is looked up with the platform's search, when that is installed."""
    missing = MissingFile(COMMAND, "frob-config")
    debian, fedora = read_platform(DATA / "debian.ini"), read_platform(DATA / "fedora.ini")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert debian.for_file(missing) == ()  # apt-file is not installed: no search, no error
    bin_dir = standins(tmp_path / "bin", "apt-file", "dnf")
    (bin_dir / "search.txt").write_text("libfrob-dev\nlibfrob-doc\n")
    assert debian.for_file(missing) == ("libfrob-dev",)
    assert calls(bin_dir)[-1] == (
        r"apt-file search --package-only --regexp ^/?usr/.*bin/frob\-config$"
    )
    (bin_dir / "search.txt").write_text(
        "frob-devel-2:1.2-3.fc41.x86_64 : Headers of frob\nRepo        : fedora\n"
    )
    assert fedora.for_file(missing) == ("frob-devel",)
    assert calls(bin_dir)[-1] == "dnf provides --quiet /usr/*bin/frob-config"
    (bin_dir / "search.txt").write_text("frob-a-dev\nfrob-b-dev\n")
    assert debian.for_file(missing) == ()  # two candidates: no guess
    assert debian.for_file(MissingFile(HEADER, "openssl/evp.h")) == ("libssl-dev",)


def test_sudo_when_not_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not root: sudo when it exists, else the reason. (os.geteuid is faked: tests run as root.)"""
    debian = read_platform(DATA / "debian.ini")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert install_command(debian, ["liblz4-dev"]) == (
        ["apt-get", "install", "--yes", "liblz4-dev"],
        "pip-accel does not run as root and sudo is not installed",
    )
    standins(tmp_path, "sudo")
    assert install_command(debian, ["liblz4-dev"]) == (
        ["sudo", "apt-get", "install", "--yes", "liblz4-dev"],
        "",
    )
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert install_command(debian, ["x"]) == (["apt-get", "install", "--yes", "x"], "")
