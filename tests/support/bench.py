"""The test bench of most end-to-end tests: the environment, the fixture index, venvs, builds."""

from dataclasses import dataclass
from pathlib import Path

from support.index import PackageIndex
from support.venvs import VenvFactory


@dataclass(frozen=True)
class Bench:
    """The fixtures that an end-to-end test of an install takes, in one (see ``bench``).

    ``env`` is the environment of every subprocess (``isolated_env``), ``index`` the started
    index of every fixture archive and build back-end (``package_index``), ``make_venv`` the
    factory of venvs, ``build_log`` the file in which the ``cext`` fixture records its builds
    and ``tmp_path`` the test's own directory.
    """

    env: dict[str, str]
    index: PackageIndex
    make_venv: VenvFactory
    build_log: Path
    tmp_path: Path
