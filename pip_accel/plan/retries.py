"""A planning step run again once what its builds lacked is there.

A build can fail for want of a requirement that its back-end asked for only when it
ran (``get_requires_for_build_wheel``: Cython for an in-tree back-end, cmake and ninja
for scikit-build-core), or of a system package (a C header, a library). Builds that
succeeded before the failure are cached, so running the step again redoes only the
rest.
"""

import logging
from collections.abc import Callable
from typing import TypeVar

from pip_accel.builds.system import SystemDependencies
from pip_accel.exceptions import BuildError, PipFailedError
from pip_accel.pip.output import missing_build_requirements
from pip_accel.sources.download import Downloader

logger = logging.getLogger(__name__)

T = TypeVar("T")
"""What a step returns."""

MAX_BUILD_REQUIREMENT_ROUNDS = 5
"""How often the requirements that builds' back-ends ask for are downloaded, in one run."""


def with_build_requirements(
    step: Callable[[], T], downloader: Downloader, system_packages: SystemDependencies
) -> T:
    """Run a step; when a build lacked requirements its back-end asked for, download
    them into the local index and run it again (builds that succeeded are cached).

    Each round may name new ones (pip names the first it misses); a requirement
    is downloaded once, so that a step cannot go round for ever.
    """
    fetched: set[str] = set()
    for _ in range(MAX_BUILD_REQUIREMENT_ROUNDS):
        try:
            return with_system_packages(step, system_packages)
        except BuildError as error:
            wanted = [item for item in missing_build_requirements(error.output)
                      if item not in fetched]  # fmt: skip
            if not wanted or not downloader.download_build_requirements(wanted):
                raise
            fetched.update(wanted)
    return with_system_packages(step, system_packages)


def with_system_packages(step: Callable[[], T], system_packages: SystemDependencies) -> T:
    """Run a step, and once more after installing the system packages a failed build lacked.

    Whether packages may be installed, :mod:`pip_accel.builds.system` decides.
    """
    try:
        return step()
    except PipFailedError as error:
        if not system_packages.install_missing(error):
            raise
    logger.info("Building again, now that the missing system packages are installed.")
    return step()
