"""One install request: the collaborators that every step of an install shares.

The configuration, the command line as pip's parser read it, the target
interpreter and the pip that runs for it are the same for the whole of one
``pip-accel install``; they travel together, so that a step (and a unit test
of it) is handed one object rather than four. The requirement files that the
command line names are read once, on first use, into :attr:`~InstallRequest.requirements`.
"""

from dataclasses import dataclass
from functools import cached_property

from pip_accel.config import Config
from pip_accel.environment import TargetEnvironment
from pip_accel.pip.command_line import CommandLine
from pip_accel.pip.requirements import RequirementFiles
from pip_accel.pip.runner import Pip


@dataclass(frozen=True)
class InstallRequest:
    """What was asked, for which interpreter, under which configuration, and who runs pip."""

    config: Config
    command_line: CommandLine
    target: TargetEnvironment
    pip: Pip

    @cached_property
    def requirements(self) -> RequirementFiles:
        """What the command line's requirement files say, read once for every question."""
        return RequirementFiles.of(self.command_line)
