"""What a failed build's output says is missing from the operating system.

Compilers, linkers, pkg-config and build scripts each have their own words for
a missing file. :func:`analyse` reads a build's output (as pip shows it) and
returns each missing header, pkg-config module, library or command once, in
the order the output names them. Which system package provides such a file is
the business of the platform definitions, not of this module.
"""

import re
from dataclasses import dataclass

HEADER = "headers"
PKG_CONFIG = "pkg-config"
LIBRARY = "libraries"
COMMAND = "commands"

KINDS = (HEADER, PKG_CONFIG, LIBRARY, COMMAND)
"""The kinds of missing files, named as the sections of the data files that map them."""

NAME = r"(?P<name>[\w.+-]+)"
COMMAND_NAME = r"(?P<name>[\w+-]+)"  # no dots: file names such as README.txt are no commands

PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (kind, re.compile(pattern, re.MULTILINE), fixed)
    for kind, pattern, fixed in (
        # gcc: "foo.c:2:10: fatal error: lz4.h: No such file or directory"
        (HEADER, r"fatal error: (?P<name>[\w./+-]+): No such file or directory", ""),
        # clang: "foo.c:2:10: fatal error: 'lz4.h' file not found"
        (HEADER, r"fatal error: '(?P<name>[\w./+-]+)' file not found", ""),
        # pkg-config and pkgconf
        (PKG_CONFIG, rf"Package {NAME} was not found in the pkg-config search path", ""),
        (PKG_CONFIG, rf"No package '{NAME}' found", ""),
        (PKG_CONFIG, rf"Package '{NAME}', required by '[^']*', not found", ""),
        # meson looks for dependencies through pkg-config
        (PKG_CONFIG, rf"Run-time dependency {NAME} found: NO", ""),
        # GNU ld: "/usr/bin/ld: cannot find -lsnappy: No such file or directory"
        (LIBRARY, rf"cannot find -l{NAME}", ""),
        # psycopg2: "Error: pg_config executable not found."
        (COMMAND, rf"\b{COMMAND_NAME} executable not found", ""),
        # mysqlclient before 2.2: "OSError: mysql_config not found"
        (COMMAND, r"\b(?P<name>[\w+-]+[_-]config):? not found", ""),
        # Python: "FileNotFoundError: [Errno 2] No such file or directory: 'curl-config'"
        (COMMAND, rf"\[Errno 2\] No such file or directory: '{COMMAND_NAME}'", ""),
        # setuptools: "error: command 'swig' failed: No such file or directory"
        (COMMAND, rf"command '{COMMAND_NAME}' failed: No such file or directory", ""),
        # sh and bash: "/bin/sh: 1: pkg-config: not found", "bash: swig: command not found"
        (COMMAND, rf"\b(?:ba)?sh: (?:\d+: |line \d+: )?{COMMAND_NAME}: (?:command )?not found", ""),
        # meson: "Program 'swig' not found or not executable", "Unknown compiler(s): [['gfortran']"
        (COMMAND, rf"Program '{COMMAND_NAME}' not found", ""),
        (COMMAND, rf"Unknown compiler\(s\): \[\['{COMMAND_NAME}'", ""),
        # setuptools-rust: "error: can't find Rust compiler"
        (COMMAND, r"can't find Rust compiler", "cargo"),
        # maturin: "Cargo metadata failed ... No such file or directory"
        (COMMAND, r"[Cc]argo metadata failed", "cargo"),
    )
)
"""(kind, pattern, fixed name): a pattern without a ``name`` group stands for the fixed name."""


@dataclass(frozen=True)
class MissingFile:
    """A file that a build looked for and did not find."""

    kind: str
    """One of :data:`KINDS`."""
    name: str
    """As the build named it: ``lz4.h``, ``libffi``, ``snappy`` (for ``-lsnappy``), ``swig``."""

    def __str__(self) -> str:
        """Words for people, such as "the header lz4.h" or "the library -lsnappy"."""
        described = {
            HEADER: f"the header {self.name}",
            PKG_CONFIG: f"the pkg-config module {self.name}",
            LIBRARY: f"the library -l{self.name}",
            COMMAND: f"the command {self.name}",
        }
        return described[self.kind]

    @property
    def glob(self) -> str:
        """A shell pattern of the paths at which a system package would install this file."""
        patterns = {
            HEADER: f"/usr/include*/{self.name}",
            PKG_CONFIG: f"/usr/*pkgconfig/{self.name}.pc",
            LIBRARY: f"/usr/lib*/lib{self.name}.so",
            COMMAND: f"/usr/*bin/{self.name}",
        }
        return patterns[self.kind]

    @property
    def regexp(self) -> str:
        """:attr:`glob` as an anchored regular expression, for tools that search by those.

        The leading slash is optional: Contents files of Debian list paths without it.
        """
        parts = [re.escape(part) for part in self.glob.removeprefix("/").split("*")]
        return "^/?" + ".*".join(parts) + "$"


def analyse(output: str) -> list[MissingFile]:
    """Every missing file that a build's output names, once each, in the order named."""
    found: dict[tuple[int, MissingFile], None] = {}
    for kind, pattern, fixed in PATTERNS:
        for match in pattern.finditer(output):
            name = match.group("name") if "name" in pattern.groupindex else fixed
            found.setdefault((match.start(), MissingFile(kind, name)), None)
    ordered = [missing for _, missing in sorted(found, key=lambda item: item[0])]
    return list(dict.fromkeys(ordered))
