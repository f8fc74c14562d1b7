"""pip-accel's help: pip's own help text, with pip-accel's usage lines and its own ``cache``.

``pip-accel``, ``pip-accel -h``, ``pip-accel --help`` and ``pip-accel help``
print the same general help, as pip does for its own: pip's list of commands
and general options, under pip-accel's usage lines, with ``cache`` described
as pip-accel's own command and a few lines on what pip-accel does otherwise.
``pip-accel help COMMAND`` prints the help of that command (``cache``:
pip-accel's; any other: pip's, its usage lines naming pip-accel). pip's
parsers format everything (see :mod:`pip_accel.pip`), so the text looks like
pip's own and follows pip's version.
"""

import optparse
import re
from typing import TextIO

from pip_accel.pip.command_line import command_parser, main_parser

GENERAL_USAGE = """
%prog install [options] <requirement specifier> [package-index-options] ...
%prog cache dir|info|list|remove|prune|purge|keygen [options]
%prog <command> [options]"""
"""The usage lines of the general help (``%prog`` is pip-accel)."""

CACHE_SUMMARY = "Inspect and prune pip-accel's own caches."
"""What the general help says of ``cache``, which pip-accel answers itself."""

DIFFERENCES = """
How pip-accel differs from pip:
  install  keeps every downloaded archive in a local index, builds every source
           distribution into a wheel once and installs from those caches: a
           requirement set seen before installs again without the network.
  cache    is pip-accel's own (pip-accel cache --help); pip cache shows pip's.
  Every other command runs pip, with the same options and exit codes.

Configuration: environment variables PIP_ACCEL_* and the [pip-accel] section of
/etc/pip-accel.conf, ~/.pip-accel/pip-accel.conf or $PIP_ACCEL_CONFIG.
"""
"""What the general help says after pip's options."""

MARKUP = re.compile(r"\[/?[a-z.]*\]")
"""The style tags of pip 24 and newer in its help text (``[optparse.longargs]``, ``[/]``)."""


def general_parser() -> optparse.OptionParser:
    """pip's general parser, its help text made pip-accel's."""
    parser = main_parser()
    parser.usage = GENERAL_USAGE
    parser.description = own_cache(parser.description or "")
    parser.epilog = DIFFERENCES
    return parser


def own_cache(commands: str) -> str:
    """pip's list of commands (one a line: name, summary) with pip-accel's summary of ``cache``."""
    lines = []
    for line in commands.splitlines():
        name, _, summary = MARKUP.sub("", line).strip().partition(" ")
        if name == "cache" and summary.strip() and line.endswith(summary.strip()):
            line = line[: len(line) - len(summary.strip())] + CACHE_SUMMARY
        lines.append(line)
    return "\n".join(lines)


def print_general_help(file: TextIO | None = None) -> None:
    """Print the general help of pip-accel."""
    general_parser().print_help(file)


def print_command_help(words: list[str], file: TextIO | None = None) -> bool:
    """Print the help ``pip-accel help WORDS`` asks for; False for a command pip does not have.

    The first word that is no option names the command, as for ``pip help``;
    without one, the general help is printed.
    """
    names = [word for word in words if not word.startswith("-")]
    if not names:
        print_general_help(file)
        return True
    if names[0] == "cache":
        from pip_accel.cli.cache_request import parser as cache_parser

        cache_parser().print_help(file)
        return True
    parser = command_parser(names[0])
    if parser is None:
        return False
    parser.print_help(file)
    return True
