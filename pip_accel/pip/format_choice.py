"""Which kinds of archive pip may take: the ``--no-binary``, ``--only-binary`` and other
options that change pip's choice, on the command line and inside requirement files."""

import itertools
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

from pip_accel.pip.command_line import CommandLine
from pip_accel.pip.requirements import CHOICE_OPTION, RequirementFiles


def choice_options(files: RequirementFiles) -> list[str]:
    """The options inside the requirement files that change which archive pip takes.

    ``--no-binary``, ``--only-binary``, ``--prefer-binary``, ``--pre`` and
    ``--trusted-host`` apply to the whole run when a file gives them, as pip
    reads them; pip-accel's own fetching of pins must take them too.
    """
    tokens: list[str] = []
    for _, line in files.lines():
        match = CHOICE_OPTION.match(line)
        if match and match.group(4):
            tokens.append(match.group(4))
        elif match:
            tokens += [match.group(1), match.group(3)]
    return tokens


@dataclass
class FormatChoice:
    """Which kinds of archive pip may take for each project, as ``--no-binary`` and
    ``--only-binary`` say, on the command line and in requirement files.

    pip's rules: a value is a comma-separated list of project names, ``:all:``
    or ``:none:``; naming a project for one option takes it from the other; a
    project named outright wins over ``:all:``.
    """

    no_binary: set[str] = field(default_factory=set)
    only_binary: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, command_line: CommandLine, files: RequirementFiles) -> "FormatChoice":
        """The choice of a command line (its options first, then its files' lines: ``files``,
        when read already)."""
        control = getattr(command_line.options, "format_control", None)
        choice = cls(
            set(getattr(control, "no_binary", ())), set(getattr(control, "only_binary", ()))
        )
        for option, value in itertools.pairwise(choice_options(files)):
            if option == "--no-binary":
                _exclude(value, choice.no_binary, choice.only_binary)
            elif option == "--only-binary":
                _exclude(value, choice.only_binary, choice.no_binary)
        return choice

    def allows_wheels(self, name: str) -> bool:
        """Whether pip may install a wheel of the project ``name``."""
        name = canonicalize_name(name)
        if name in self.only_binary:
            return True
        return name not in self.no_binary and ":all:" not in self.no_binary

    def allows_sdists(self, name: str) -> bool:
        """Whether pip may build the project ``name`` from an sdist."""
        name = canonicalize_name(name)
        if name in self.no_binary:
            return True
        return name not in self.only_binary and ":all:" not in self.only_binary


def _exclude(value: str, target: set[str], other: set[str]) -> None:
    """Add one option's value to its set, as pip does (``:all:`` and ``:none:`` included)."""
    for item in value.split(","):
        if item == ":all:":
            target.clear()
            other.clear()
            target.add(":all:")
        elif item == ":none:":
            target.clear()
        elif item:
            name = canonicalize_name(item)
            other.discard(name)
            target.add(name)
