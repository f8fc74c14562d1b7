"""A command line with its requirement files read, as an install request holds both."""

from pip_accel.pip.command_line import CommandLine
from pip_accel.pip.requirements import RequirementFiles


def with_files(command_line: CommandLine) -> tuple[CommandLine, RequirementFiles]:
    """``command_line`` and what its requirement files say (read once, as on the request)."""
    return command_line, RequirementFiles.of(command_line)
