"""System dependencies: when a build fails for lack of a system package, name it and install it.

A failed build is explained two ways: the project may be known to need certain
system packages (the ``[projects]`` table of the platform's definition), and
its output may name a missing header, pkg-config module, library or command,
which the definition's tables (or the platform's own file search) map to the
package that provides it. The packages that are not installed yet are
installed when the ``auto-install`` option says so (or the user agrees on a
terminal); otherwise pip-accel stops with the command that would install them.
"""

import contextlib
import logging
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cached_property
from typing import TextIO

from humanfriendly import Timer, format_timespan

from pip_accel.builds.system.analysis import analyse
from pip_accel.builds.system.platforms import Platform, detect, install_command, load_platforms
from pip_accel.config import Config
from pip_accel.exceptions import (
    BuildError,
    MissingSystemPackagesError,
    PipFailedError,
    SystemPackageInstallError,
)
from pip_accel.pip.output import BUILD_FAILED, failed_project

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Need:
    """A system package that a failed build needs, and why pip-accel thinks so."""

    package: str
    reason: str


class SystemDependencies:
    """Finds the system packages a failed build lacks, and installs them when allowed."""

    def __init__(
        self,
        config: Config,
        platforms: list[Platform] | None = None,
        stdin: TextIO | None = None,
        quiet: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
    ) -> None:
        """Read the definitions now, so that a broken one stops pip-accel before any work.

        :param config: gives ``auto-install`` and the directory of the user's definitions.
        :param platforms: the definitions to choose from (default: shipped and the user's).
        :param stdin: where the answer to the question comes from (default: standard input).
        :param quiet: keeps the terminal to the question while it is asked (the live
            progress line stops meanwhile).
        """
        self.quiet = quiet
        self.auto_install = config.auto_install
        self.platforms = (
            load_platforms(config.system_dependencies) if platforms is None else platforms
        )
        self.stdin = stdin or sys.stdin

    @cached_property
    def platform(self) -> Platform | None:
        """The definition of this machine's package manager, or None when none applies."""
        return detect(self.platforms)

    def install_missing(self, error: PipFailedError) -> bool:
        """Install the system packages whose absence made a build fail; whether any were.

        False means that the failure is not a build's, or that no missing system
        package explains it. Raises :class:`MissingSystemPackagesError` when
        packages are missing but were not installed.
        """
        if not isinstance(error, BuildError) and BUILD_FAILED not in error.output:
            return False
        project = error.project if isinstance(error, BuildError) else failed_project(error.output)
        platform = self.platform
        if platform is None:
            logger.info("pip-accel knows no package manager here to look for system packages.")
            return False
        needs = self.missing(platform, project, error.output)
        if not needs:
            return False
        self._explain(error, needs)
        self._install(platform, project, list(dict.fromkeys(need.package for need in needs)))
        return True

    @staticmethod
    def _explain(error: PipFailedError, needs: list[Need]) -> None:
        """Show the failed build's output (unless the builder did) and why each package."""
        if not isinstance(error, BuildError):
            logger.error("pip failed to build a distribution; its output follows:\n%s",
                         error.output.rstrip())  # fmt: skip
        for package in dict.fromkeys(need.package for need in needs):
            reasons = "; ".join(need.reason for need in needs if need.package == package)
            logger.warning("The system package %s is not installed: %s.", package, reasons)

    def missing(self, platform: Platform, project: str | None, output: str) -> list[Need]:
        """What the build of ``project`` needs from the system and does not have."""
        needs = [
            Need(package, f"{project} is known to need it")
            for package in (platform.for_project(project) if project else ())
        ]
        for missing in analyse(output):
            packages = platform.for_file(missing)
            if not packages:
                logger.warning(
                    "The build failed for lack of %s, and pip-accel knows no %s package that"
                    " provides it.", missing, platform.name,
                )  # fmt: skip
            needs += [Need(package, f"it provides {missing}") for package in packages]
        if not needs:
            return []
        installed = platform.installed()
        for need in needs:
            if need.package in installed:
                logger.info("The system package %s is installed already.", need.package)
        return [need for need in needs if need.package not in installed]

    def _install(self, platform: Platform, project: str | None, packages: list[str]) -> None:
        """Install ``packages`` when allowed; raise with the command to run when not."""
        command, obstacle = install_command(platform, packages)
        what = f"Building {project}" if project else "A build"
        needs = f"{what} needs {_packages(packages)}"
        refusal = obstacle or self._refusal(f"{needs}. Install with `{shlex.join(command)}`?")
        if refusal:
            raise MissingSystemPackagesError(
                f"{needs}, which pip-accel did not install: {refusal}."
                f" {'As root, install' if obstacle else 'Install'} with `{shlex.join(command)}`"
                " and run pip-accel again."
            )
        _run_install(platform, command, packages)

    def _refusal(self, question: str) -> str:
        """Why pip-accel may not install the packages, or an empty string when it may."""
        if self.auto_install is True:
            return ""
        if self.auto_install is False:
            return "the auto-install option is off"
        if not self.stdin.isatty():
            return "the auto-install option is not set, and standard input is no terminal to ask on"
        with self.quiet():
            return "" if ask(question, self.stdin) else "you answered no"


def ask(question: str, stdin: TextIO) -> bool:
    """Ask a yes/no question on the terminal, with No as the default."""
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = stdin.readline().strip().lower()
    return answer in ("y", "yes")


def _run_install(platform: Platform, command: list[str], packages: list[str]) -> None:
    """Run the install command; raise with its output when it fails."""
    logger.info("Installing %s: %s", _packages(packages), shlex.join(command))
    timer = Timer()
    result = subprocess.run(
        command,
        env={**os.environ, **platform.install_environment},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        logger.error("%s failed; its output follows:\n%s", command[0], result.stdout.rstrip())
        raise SystemPackageInstallError(
            f"Installing {_packages(packages)} failed: `{shlex.join(command)}` exited with"
            f" code {result.returncode} (its output is above)."
        )
    logger.debug("Output of %s:\n%s", shlex.join(command), result.stdout.rstrip())
    logger.info("Installed %s in %s.", _packages(packages), format_timespan(timer.elapsed_time))


def _packages(packages: Sequence[str]) -> str:
    """ "the system package X" or "the system packages X, Y"."""
    noun = "package" if len(packages) == 1 else "packages"
    return f"the system {noun} {', '.join(packages)}"
