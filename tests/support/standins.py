"""Stand-ins for the package tools of other distributions: dnf, rpm, apk, apt-file, sudo.

This machine runs Debian, so the other distributions' package tools cannot run here. Each
stand-in logs its arguments to ``calls.log``, lists the packages "installed" so far, and
"installs" packages by adding them to that list; installing a libpq package puts a
``pg_config`` stand-in beside it. Searches answer with ``search.txt``.
"""

import sys
from pathlib import Path

STANDIN = f"""#!{sys.executable}
'''A stand-in for a package tool in pip-accel's tests (see tests/support/standins.py).'''
import os, sys
from pathlib import Path

here = Path(__file__).parent
tool, args = Path(sys.argv[0]).name, sys.argv[1:]
with open(here / "calls.log", "a") as log:
    log.write(" ".join([tool, *args]) + "\\n")
installed = here / "installed.txt"
if args == ["--version"]:
    print(tool, "(stand-in)")
elif tool == "rpm" or (tool == "apk" and args == ["info"]):
    print(installed.read_text() if installed.exists() else "", end="")
elif (tool, args[0]) in (("dnf", "install"), ("apk", "add")):
    if os.environ.get("STANDIN_FAIL"):
        sys.exit("ERROR: unable to select packages: " + args[-1])
    packages = [arg for arg in args[1:] if not arg.startswith("-")]
    with installed.open("a") as stream:
        stream.writelines(package + "\\n" for package in packages)
    if any("libpq" in package for package in packages):
        (here / "pg_config").write_text("#!/bin/sh\\necho PostgreSQL 16\\n")
        (here / "pg_config").chmod(0o755)
elif tool in ("dnf", "apt-file"):
    search = here / "search.txt"
    print(search.read_text() if search.exists() else "", end="")
else:
    sys.exit(2)
"""


def standins(directory: Path, *tools: str) -> Path:
    """Put stand-ins of ``tools`` into ``directory`` and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    for tool in tools:
        (directory / tool).write_text(STANDIN)
        (directory / tool).chmod(0o755)
    return directory


def calls(directory: Path) -> list[str]:
    """The command lines the stand-ins in ``directory`` were run with."""
    log = directory / "calls.log"
    return log.read_text().splitlines() if log.exists() else []
