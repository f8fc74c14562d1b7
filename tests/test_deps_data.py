"""The system dependency definitions: the shipped data files, the user's own, and their checks."""

from pathlib import Path

import pytest

from pip_accel.builds.system.analysis import COMMAND, HEADER, MissingFile
from pip_accel.builds.system.platforms import DATA, SECTIONS, load_platforms, read_platform
from pip_accel.exceptions import DefinitionError

from helpers import pip_accel_cmd, run

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


def test_broken_user_file_stops_pip_accel(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """A broken file in the user's directory stops every install before it plans, one line."""
    write(tmp_path / "deps", "debian.ini", "[projets]\nlxml = libxml2-dev\n")
    env = {**isolated_env, "PIP_ACCEL_SYSTEM_DEPENDENCIES": str(tmp_path / "deps")}
    result = run([*pip_accel_cmd(), "install", "--no-index", "purepkg"], env, input="")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "unknown section(s) projets" in lines[-1] and "ERROR" in lines[-1], result.stderr
    assert "Traceback" not in result.stderr and "purepkg" not in result.stderr


def test_missing_user_directory_stops_pip_accel(
    isolated_env: dict[str, str], tmp_path: Path
) -> None:
    """The system-dependencies option must name a directory; else one line and exit 1."""
    env = {**isolated_env, "PIP_ACCEL_SYSTEM_DEPENDENCIES": str(tmp_path / "nowhere")}
    result = run([*pip_accel_cmd(), "install", "--no-index", "purepkg"], env, input="")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "nowhere" in lines[0] and "not a directory" in lines[0]
    assert "Traceback" not in result.stderr
