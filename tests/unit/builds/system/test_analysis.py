"""Reading what is missing from real build output, captured on Debian 12 (see tests/data).

The logs under ``tests/data/build-logs`` are pip's real output, captured on this project's
Debian 12 machine with pip 26 and gcc 12: tiny projects whose C extension includes a header
that is not installed (lz4.h), links a library that is not installed (-lsnappy) or asks
pkg-config for a module that is not installed (liblz4); and the real sdists of psycopg2
2.9.10, pycurl 7.45.3, mysqlclient 2.2.6 and bcrypt 4.2.1 from PyPI, prepared with an empty
PATH (no pg_config, curl-config, pkg-config or cargo). ``not-c-compiler-error.log`` is a
compiler error that no system package explains.
"""

import pytest

from pip_accel.builds.system.analysis import (
    COMMAND,
    HEADER,
    LIBRARY,
    PKG_CONFIG,
    MissingFile,
    analyse,
)
from pip_accel.pip.output import failed_project

from support import TESTS

LOGS = TESTS / "data" / "build-logs"


@pytest.mark.parametrize(
    ("log", "expected", "project"),
    [
        ("gcc-missing-header.log", [MissingFile(HEADER, "lz4.h")], "hdrext"),
        ("ld-missing-library.log", [MissingFile(LIBRARY, "snappy")], "linkext"),
        ("pkg-config-missing-module.log", [MissingFile(PKG_CONFIG, "liblz4")], "pkgext"),
        ("psycopg2-missing-pg-config.log", [MissingFile(COMMAND, "pg_config")], "psycopg2"),
        ("pycurl-missing-curl-config.log", [MissingFile(COMMAND, "curl-config")], "pycurl"),
        ("mysqlclient-missing-pkg-config.log", [MissingFile(COMMAND, "pkg-config")], "mysqlclient"),
        ("bcrypt-missing-rust.log", [MissingFile(COMMAND, "cargo")], "bcrypt"),
        # pkg-config is there but no module of MySQL or MariaDB: the [projects] table knows.
        ("mysqlclient-no-pkg-config-module.log", [], "mysqlclient"),
        ("not-c-compiler-error.log", [], "broken"),
    ],
)
def test_real_build_logs(log: str, expected: list[MissingFile], project: str) -> None:
    """Each captured log yields exactly the missing file it shows, once, and the project."""
    output = (LOGS / log).read_text(encoding="utf-8")
    assert analyse(output) == expected
    assert failed_project(output) == project


def test_clang_header_message() -> None:
    """clang's wording of a missing header (typed in: clang is not installed on this machine)."""
    output = "x.c:2:10: fatal error: 'libxml/xmlversion.h' file not found\n#include <...>\n"
    assert analyse(output) == [MissingFile(HEADER, "libxml/xmlversion.h")]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("OSError: mysql_config not found", MissingFile(COMMAND, "mysql_config")),
        ("error: command 'swig' failed: No such file or directory", MissingFile(COMMAND, "swig")),
        ("bash: gfortran: command not found", MissingFile(COMMAND, "gfortran")),
        ("Unknown compiler(s): [['gfortran'], ['flang']]", MissingFile(COMMAND, "gfortran")),
        (
            "Run-time dependency openblas found: NO (tried pkgconfig)",
            MissingFile(PKG_CONFIG, "openblas"),
        ),
        ("No package 'libffi' found", MissingFile(PKG_CONFIG, "libffi")),
    ],
)
def test_other_wordings(line: str, expected: MissingFile) -> None:
    """Wordings of older tools and of meson, as their sources print them (typed in)."""
    assert analyse(f"  {line}\n") == [expected]


def test_data_files_are_not_commands() -> None:
    """A missing data file with an extension is not taken for a missing command."""
    assert analyse("FileNotFoundError: [Errno 2] No such file or directory: 'README.rst'") == []


def test_order_of_appearance_and_no_repeats() -> None:
    """Several missing files come out in the order the output names them, each once."""
    output = (
        "/usr/bin/ld: cannot find -lz: No such file or directory\n"
        "a.c:1:10: fatal error: ffi.h: No such file or directory\n"
        "/usr/bin/ld: cannot find -lz: No such file or directory\n"
    )
    assert analyse(output) == [MissingFile(LIBRARY, "z"), MissingFile(HEADER, "ffi.h")]


def test_search_patterns() -> None:
    """Each kind of file becomes a path pattern, as a glob and as an anchored regexp."""
    header = MissingFile(HEADER, "libxml/xmlversion.h")
    assert header.glob == "/usr/include*/libxml/xmlversion.h"
    assert header.regexp == r"^/?usr/include.*/libxml/xmlversion\.h$"
    assert MissingFile(LIBRARY, "snappy").glob == "/usr/lib*/libsnappy.so"
    assert MissingFile(COMMAND, "pg_config").glob == "/usr/*bin/pg_config"
    assert MissingFile(PKG_CONFIG, "libffi").glob == "/usr/*pkgconfig/libffi.pc"


def test_project_of_older_pip_output() -> None:
    """pip before 25 names no project in its error; the archive it processed tells."""
    output = (
        "Processing /tmp/view/psycopg2-2.9.10.tar.gz\n"
        "  Preparing metadata (setup.py): finished with status 'error'\n"
        "  error: subprocess-exited-with-error\n"
    )
    assert failed_project(output) == "psycopg2"
    assert failed_project("Collecting pyyaml>=6\n  error: subprocess-exited-with-error\n") == (
        "pyyaml"
    )
    assert failed_project("ERROR: No matching distribution found for nothing\n") is None
