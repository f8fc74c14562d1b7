"""pip's command line, read by pip's own option parsers.

pip states that its internals are no API, so pip-accel imports of pip only its
option parsers, to read a command line exactly as pip would (and, in
:mod:`pip_accel.sources.pip_finder`, its finder and session, with a fallback).

The command line is kept as *option groups*: the tokens of one option (say
``-r requirements.txt``) together with pip's description of that option. Each
pip command that pip-accel runs gets those groups its own parser accepts (see
:mod:`pip_accel.pip.commands`), so an option is passed to every pip command
that understands it, and to no other.
"""

import copy
import optparse
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

INDEX_DESTS = frozenset({"index_url", "extra_index_urls", "no_index", "find_links"})
"""Options that say where pip looks for distributions."""

REQUIREMENT_DESTS = frozenset({
    "requirements", "constraints", "editables", "dependency_groups", "requirements_from_scripts",
})  # fmt: skip
"""Options that name what to install, besides the positional arguments."""

PROG = "pip-accel"
"""The name pip's help and usage lines give the command (pip would say ``python -m pip``)."""


@dataclass(frozen=True)
class OptionGroup:
    """The tokens of one option on the command line, or of one positional argument."""

    tokens: tuple[str, ...]
    dest: str | None = None
    """The destination of the option in pip's parser (None for a positional argument)."""


@dataclass
class CommandLine:
    """A pip command line, read by pip's own parsers."""

    command: str
    groups: list[OptionGroup]
    options: optparse.Values = field(default_factory=optparse.Values)

    def tokens(self, accepted: Iterable[str] = (), excluded: Iterable[str] = ()) -> list[str]:
        """The tokens of the options whose destination is accepted and not excluded."""
        accepted, excluded = set(accepted), set(excluded)
        chosen: list[str] = []
        for group in self.groups:
            if group.dest is not None and group.dest in accepted and group.dest not in excluded:
                chosen.extend(group.tokens)
        return chosen

    def tokens_for(self, command: str, excluded: Iterable[str] = ()) -> list[str]:
        """The option tokens that pip's ``command`` accepts, but for the general options.

        The general options (``-v``, ``--proxy``, ...) go to every pip command
        through :class:`~pip_accel.pip.runner.Pip`, so they are left out here
        to avoid repeating them.
        """
        return self.tokens(command_dests(command) - general_dests(), excluded)

    @property
    def arguments(self) -> list[str]:
        """The positional arguments (requirement specifiers) after the command name."""
        return [group.tokens[0] for group in self.groups if group.dest is None]

    def given(self, dest: str) -> bool:
        """Whether an option with this destination appears on the command line."""
        return any(group.dest == dest for group in self.groups)

    def replacing(self, arguments: Mapping[OptionGroup, str]) -> "CommandLine":
        """This command line with each group of ``arguments`` replaced by an argument.

        ``-e ./proj`` may become ``proj @ file:///…`` (see
        :mod:`pip_accel.plan.stand_ins`); the editables left are the options' too.
        """
        if not arguments:
            return self
        groups = [OptionGroup((arguments[group],)) if group in arguments else group
                  for group in self.groups]  # fmt: skip
        options = copy.copy(self.options)
        options.editables = [group.tokens[-1] for group in groups if group.dest == "editables"]
        return CommandLine(self.command, groups, options)


def _command_parser(command: str) -> optparse.OptionParser:
    """pip's option parser of one command, its usage lines naming pip-accel.

    Raises :class:`KeyError` for a command that pip does not have.
    """
    from pip._internal.commands import create_command

    parser: optparse.OptionParser = create_command(command).parser
    parser.prog = f"{PROG} {command}"
    return parser


def command_parser(command: str) -> optparse.OptionParser | None:
    """pip's option parser of ``command`` (for its help), or None when pip has no such command."""
    try:
        return _command_parser(command)
    except KeyError:
        return None


def main_parser() -> optparse.OptionParser:
    """pip's parser of its general options, naming pip-accel, which prints no help itself.

    ``-h``/``--help`` sets ``help`` instead of printing pip's general help,
    so that pip-accel prints its own (see :mod:`pip_accel.cli.help`).
    """
    from pip._internal.cli.main_parser import create_main_parser

    parser: optparse.OptionParser = create_main_parser()
    parser.prog = PROG
    option = parser.get_option("--help")
    if option is not None:
        option.action = "store_true"
    return parser


@cache
def command_dests(command: str) -> frozenset[str]:
    """The destinations of every option that pip's ``command`` accepts."""
    parser = _command_parser(command)
    return frozenset(option.dest for option in parser._get_all_options() if option.dest)


@cache
def general_dests() -> frozenset[str]:
    """The destinations of pip's general options (those every command accepts)."""
    from pip._internal.cli.main_parser import create_main_parser

    parser = create_main_parser()
    return frozenset(option.dest for option in parser._get_all_options() if option.dest)


def split_command(argv: Sequence[str]) -> tuple[optparse.Values, list[str]]:
    """Read pip's general options; return them and the rest (command first).

    Raises :class:`SystemExit` with status 2 and pip's message on a bad option.
    ``general.help`` tells whether ``-h``/``--help`` came before the command.
    """
    general, rest = main_parser().parse_args(list(argv))
    return general, rest


def parse_install(argv: Sequence[str]) -> CommandLine:
    """Read an ``install`` command line (without the word install) with pip's parser.

    pip's parser validates everything (exiting with status 2 and pip's message
    on an error); the option groups are then found with the same parser. The
    defaults are copied first: pip's ``--group`` appends to a default list
    that every parser of the process shares.
    """
    parser = _command_parser("install")
    options, _ = parser.parse_args(list(argv), copy.deepcopy(parser.get_default_values()))
    groups = list(_split_groups(parser, list(argv)))
    return CommandLine("install", groups, options)


def _split_groups(parser: optparse.OptionParser, argv: list[str]) -> Iterator[OptionGroup]:
    """Split a command line into option groups, expanding ``-abc`` clusters."""
    position = 0
    while position < len(argv):
        token = argv[position]
        if token == "--":
            yield from (OptionGroup((rest,)) for rest in argv[position + 1 :])
            return
        if token.startswith("--"):
            group, position = _long_option(parser, argv, position)
            yield group
        elif token.startswith("-") and token != "-":
            groups, position = _short_options(parser, argv, position)
            yield from groups
        else:
            yield OptionGroup((token,))
            position += 1


def _long_option(
    parser: optparse.OptionParser, argv: list[str], position: int
) -> tuple[OptionGroup, int]:
    """Read one ``--name[=value]`` option (abbreviations allowed, as in optparse)."""
    name, has_value, value = argv[position].partition("=")
    option = parser._long_opt[parser._match_long_opt(name)]
    if option.takes_value():
        if has_value:
            return OptionGroup((option.get_opt_string(), value), option.dest), position + 1
        return OptionGroup((option.get_opt_string(), argv[position + 1]), option.dest), position + 2
    return OptionGroup((option.get_opt_string(),), option.dest), position + 1


def _short_options(
    parser: optparse.OptionParser, argv: list[str], position: int
) -> tuple[list[OptionGroup], int]:
    """Read a cluster of short options such as ``-Uqr file``."""
    letters = argv[position][1:]
    groups = []
    for index, letter in enumerate(letters):
        option = parser._short_opt["-" + letter]
        if option.takes_value():
            rest = letters[index + 1 :]
            if rest:
                groups.append(OptionGroup(("-" + letter, rest), option.dest))
                return groups, position + 1
            groups.append(OptionGroup(("-" + letter, argv[position + 1]), option.dest))
            return groups, position + 2
        groups.append(OptionGroup(("-" + letter,), option.dest))
    return groups, position + 1


def config_files() -> list[str]:
    """Every configuration file pip may read for a command line (whether it exists or not)."""
    from pip._internal.configuration import get_configuration_files

    files = [name for names in get_configuration_files().values() for name in names]
    named = os.environ.get("PIP_CONFIG_FILE")
    return [*files, named] if named else files
