"""The requirement sources and selection options of pip 25 and 26, installed like pip.

Each test installs the same input with pip-accel and with pip into two new environments and
compares them (pip freeze, which distributions are REQUESTED, their direct_url.json); where
pip-accel keeps a plan, a third run from that plan, without pip and without the network,
gives the same environment again. Options that the pip under test lacks skip their tests
(pip 23.0 has none of them).
"""

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pip
import pytest
from packaging.version import Version

from pip_accel.pip.command_line import command_dests

from support.bench import Bench
from support.commands import Command, build_count, describe, pip_accel_cmd, run
from support.fixtures import make_sdist, pure_project
from support.index import PackageIndex
from support.venvs import Venv, VenvFactory, accel_without_pip, environment_of, pip_cmd

pytestmark = pytest.mark.every_pip  # the requirement sources of pip's parser

REUSED = "Using the plan of an earlier run"
"""What pip-accel logs when it installs from a stored plan."""


def pip_accepts(dest: str) -> pytest.MarkDecorator:
    """Skip a test when the pip under test has no install option with destination ``dest``."""
    return pytest.mark.skipif(
        dest not in command_dests("install"), reason=f"this pip has no option {dest}"
    )


def accel_in(
    env: dict[str, str], venv: Venv, *args: str | os.PathLike[str], cwd: Path | None = None
) -> str:
    """Run ``pip-accel install`` for ``venv`` in ``cwd``, which must succeed; its stderr."""
    result = run([*pip_accel_cmd(), "install", "--python", venv.python, *args], env, cwd=cwd)
    assert result.returncode == 0, describe(result)
    return result.stderr


def like_pip(
    env: dict[str, str],
    make_venv: VenvFactory,
    *args: str | os.PathLike[str],
    cwd: Path | None = None,
) -> tuple[dict[str, Any], str]:
    """Install ``args`` with pip-accel and with pip; assert the environments are equal.

    Returns the environment and pip-accel's stderr.
    """
    by_accel, by_pip = make_venv("by-accel"), make_venv("by-pip")
    output = accel_in(env, by_accel, *args, cwd=cwd)
    run([*pip_cmd(by_pip), "install", *args], env, cwd=cwd, check=True)
    installed = environment_of(by_accel, env)
    assert installed == environment_of(by_pip, env)
    assert installed["freeze"], "nothing was installed"
    return installed, output


def from_stored_plan(
    env: dict[str, str],
    make_venv: VenvFactory,
    expected: dict[str, Any],
    *args: str | os.PathLike[str],
    cwd: Path | None = None,
) -> None:
    """Install ``args`` once more, without pip and the network: the stored plan, the same."""
    venv = make_venv("offline")
    result = accel_without_pip(env, venv, *args, cwd=cwd)
    assert result.returncode == 0, describe(result)
    assert REUSED in result.stderr
    assert environment_of(venv, env) == expected


@pip_accepts("dependency_groups")
def test_a_dependency_group_is_installed_like_pip_and_planned_once(bench: Bench) -> None:
    """``--group test`` (./pyproject.toml) and ``--group path:test``: pip's environment; the
    plan is stored by the file's contents, so a changed group is planned anew."""
    project = bench.tmp_path / "project"
    project.mkdir()
    pyproject = project / "pyproject.toml"
    pyproject.write_text('[dependency-groups]\ntest = ["chain-b", "purepkg<2"]\n')
    index = ["-i", bench.index.url]
    installed, _ = like_pip(bench.env, bench.make_venv, *index, "--group", "test", cwd=project)
    assert installed["freeze"] == ["chain-b==1.0", "chain-c==1.0", "purepkg==1.0"]
    from_stored_plan(
        bench.env,
        bench.make_venv,
        installed,
        *index,
        "--group",
        f"{pyproject}:test",
        cwd=bench.tmp_path,
    )
    pyproject.write_text('[dependency-groups]\ntest = ["chain-c"]\n')
    changed = bench.make_venv("changed")
    output = accel_in(bench.env, changed, *index, "--group", "test", cwd=project)
    assert REUSED not in output
    assert environment_of(changed, bench.env)["freeze"] == ["chain-c==1.0"]


@pip_accepts("requirements_from_scripts")
def test_a_script_with_inline_metadata_is_installed_like_pip_and_planned_once(bench: Bench) -> None:
    """``--requirements-from-script``: planned, downloaded, built and installed like pip; the
    script counts in the stored plan's key by its contents."""
    script = bench.tmp_path / "script.py"
    script.write_text(
        '# /// script\n# requires-python = ">=3.8"\n# dependencies = ["chain-b", "scriptpkg"]\n'
        '# ///\nprint("hello")\n'
    )
    args = ["-i", bench.index.url, "--requirements-from-script", str(script)]
    installed, _ = like_pip(bench.env, bench.make_venv, *args)
    assert installed["freeze"] == ["chain-b==1.0", "chain-c==1.0", "scriptpkg==1.0"]
    from_stored_plan(bench.env, bench.make_venv, installed, *args)
    script.write_text('# /// script\n# dependencies = ["purepkg<2"]\n# ///\n')
    changed = bench.make_venv("changed")
    assert REUSED not in accel_in(bench.env, changed, *args)
    assert environment_of(changed, bench.env)["freeze"] == ["purepkg==1.0"]


@pip_accepts("only_dependencies")
def test_only_deps_installs_the_dependencies_alone_like_pip(bench: Bench) -> None:
    """``--only-deps`` of a named project (its plan stored) and of a local project (whose
    dependencies can change, so its plan is not stored)."""
    args = ["-i", bench.index.url, "--only-deps", "chain-a"]
    installed, _ = like_pip(bench.env, bench.make_venv, *args)
    assert installed["freeze"] == ["chain-b==1.0", "chain-c==1.0"]
    assert installed["requested"] == []
    from_stored_plan(bench.env, bench.make_venv, installed, *args)

    project = bench.tmp_path / "project"
    files = pure_project("local-app", "1.0", dependencies=["purepkg<2"], flit=True)
    for name, content in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(str(content))
    shutil.rmtree(bench.tmp_path / "by-accel")
    shutil.rmtree(bench.tmp_path / "by-pip")
    local = ["-i", bench.index.url, "--only-deps", str(project)]
    installed, _ = like_pip(bench.env, bench.make_venv, *local)
    assert installed["freeze"] == ["purepkg==1.0"]
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"purepkg<2"', '"purepkg>=2"'))
    changed = bench.make_venv("changed")
    assert REUSED not in accel_in(bench.env, changed, *local)
    assert environment_of(changed, bench.env)["freeze"] == ["purepkg==2.0"]


@pip_accepts("build_constraints")
def test_build_constraints_reach_the_builds_and_their_key(bench: Bench) -> None:
    """``--build-constraint``: built anew (another key), like pip; the same contents in another
    file reuse that build and the plan; constraints no build can meet fail like pip's."""
    index = ["-i", bench.index.url]
    accel_in(bench.env, bench.make_venv("plain"), *index, "cext")
    assert build_count(bench.build_log) == 1
    (bench.tmp_path / "one").mkdir()
    (bench.tmp_path / "two").mkdir()
    for name in ("one", "two"):
        (bench.tmp_path / name / "build.txt").write_text("setuptools>=61\n")
    args = [*index, "--build-constraint", str(bench.tmp_path / "one" / "build.txt"), "cext"]
    installed, output = like_pip(bench.env, bench.make_venv, *args)
    assert "1 built" in output and installed["freeze"] == ["cext==1.0"]
    copied = [*index, "--build-constraint", str(bench.tmp_path / "two" / "build.txt"), "cext"]
    from_stored_plan(bench.env, bench.make_venv, installed, *copied)

    impossible = bench.tmp_path / "impossible.txt"
    impossible.write_text("setuptools<60\n")
    # pip's own wheel cache would serve the cext it built above, whatever the constraints.
    refused = [*index, "--no-cache-dir", "--build-constraint", str(impossible), "cext"]
    accel_command: Command = [*pip_accel_cmd(), "install", "--python", bench.make_venv("no").python]
    by_accel = run([*accel_command, *refused], bench.env)
    by_pip = run([*pip_cmd(bench.make_venv("no-pip")), "install", *refused], bench.env)
    assert by_accel.returncode == by_pip.returncode == 1, describe(by_accel)
    assert "Failed to build 'cext'" in by_pip.stderr
    errors = [line for line in by_accel.stderr.splitlines() if " ERROR " in line]
    # pip fails building cext; pip-accel may fail one step earlier, when it downloads the
    # build requirements that the constraint makes impossible: either way one line says so.
    said = errors[-1]
    assert "Failed to build 'cext'" in said or "setuptools" in said, said
    assert "Traceback" not in by_accel.stderr


@pytest.mark.skipif(
    Version(pip.__version__) < Version("26.2"),
    reason="before pip 26.2 PIP_CONSTRAINT reaches isolated builds",
)
def test_constraints_do_not_reach_isolated_builds(bench: Bench) -> None:
    """Constraints that no build could meet, by ``-c`` and by PIP_CONSTRAINT, constrain the
    plan alone: pip builds cext, and so does pip-accel."""
    constraints = bench.tmp_path / "constraints.txt"
    constraints.write_text("setuptools<60\n")
    args = ["-i", bench.index.url, "-c", str(constraints), "cext"]
    installed, _ = like_pip(bench.env, bench.make_venv, *args)
    assert installed["freeze"] == ["cext==1.0"]
    shutil.rmtree(bench.tmp_path / "by-accel")
    shutil.rmtree(bench.tmp_path / "by-pip")
    inherited = {**bench.env, "PIP_CONSTRAINT": str(constraints)}
    assert like_pip(inherited, bench.make_venv, "-i", bench.index.url, "cext")[0] == installed


def add_pre_release(package_index: PackageIndex, directory: Path) -> None:
    """Serve purepkg 3.0b1 too (built by flit_core, faster than setuptools)."""
    files = pure_project("purepkg", "3.0b1", flit=True)
    package_index.add(make_sdist(directory, "purepkg", "3.0b1", files))


@pip_accepts("release_control")
@pytest.mark.parametrize(
    ("options", "version"),
    [
        (["--all-releases", "purepkg"], "3.0b1"),
        (["--pre", "--only-final", ":all:"], None),
        (["--all-releases", ":all:", "--only-final", "purepkg"], "2.0"),
    ],
    ids=["all releases of one", "with --pre", "only final of one"],
)
def test_release_control_is_pips(bench: Bench, options: list[str], version: str | None) -> None:
    """``--all-releases`` and ``--only-final`` choose among the local index's archives as
    pip does among the package index's, with a pre-release in the local index already;
    ``--pre`` with either is refused with pip's message."""
    add_pre_release(bench.index, bench.tmp_path / "pre")
    accel_in(bench.env, bench.make_venv("seed"), "-i", bench.index.url, "--pre", "purepkg")
    args = ["-i", bench.index.url, *options, "purepkg"]
    if version is None:
        by_accel = run([*pip_accel_cmd(), "install", "--python", bench.make_venv().python, *args],
                       bench.env)  # fmt: skip
        by_pip = run([*pip_cmd(bench.make_venv("pip")), "install", *args], bench.env)
        message = by_pip.stderr.strip().splitlines()[-1].removeprefix("ERROR: ")
        assert by_accel.returncode == by_pip.returncode != 0, describe(by_accel)
        assert "--pre cannot be used" in message and message in by_accel.stderr
        return
    installed, _ = like_pip(bench.env, bench.make_venv, *args)
    assert installed["freeze"] == [f"purepkg=={version}"]
    from_stored_plan(bench.env, bench.make_venv, installed, *args)


@pip_accepts("no_require_hashes")
def test_no_require_hashes_checks_the_hashes_given_and_no_more(
    bench: Bench, fixture_sdists: dict[str, Path]
) -> None:
    """One hashed line no longer asks hashes of every line, as in pip: without the option both
    refuse the unhashed line; with it both install, and a wrong hash fails both."""
    digest = hashlib.sha256(fixture_sdists["purepkg-1.0"].read_bytes()).hexdigest()
    requirements = bench.tmp_path / "requirements.txt"
    requirements.write_text(f"purepkg==1.0 --hash=sha256:{digest}\nchain-c\n")
    args = ["-i", bench.index.url, "-r", str(requirements)]
    for extra, succeeds in (([], False), (["--no-require-hashes"], True)):
        if succeeds:
            installed, _ = like_pip(bench.env, bench.make_venv, *args, *extra)
            assert installed["freeze"] == ["chain-c==1.0", "purepkg==1.0"]
            continue
        by_accel = run([*pip_accel_cmd(), "install", "--python", bench.make_venv().python, *args],
                       bench.env)  # fmt: skip
        by_pip = run([*pip_cmd(bench.make_venv("pip")), "install", *args], bench.env)
        assert by_accel.returncode == by_pip.returncode == 1, describe(by_accel)
        assert "In --require-hashes mode" in by_accel.stderr
    requirements.write_text(f"purepkg==1.0 --hash=sha256:{'0' * 64}\nchain-c\n")
    wrong = [*args, "--no-require-hashes"]
    accel_command: Command = [
        *pip_accel_cmd(),
        "install",
        "--python",
        bench.make_venv("wrong").python,
    ]
    by_accel = run([*accel_command, *wrong], bench.env)
    assert by_accel.returncode == 1 and "DO NOT MATCH THE HASHES" in by_accel.stderr


class UploadTimes(BaseHTTPRequestHandler):
    """A package index of the JSON simple API (PEP 691, 700): files with upload times."""

    files: ClassVar[dict[str, tuple[Path, str]]] = {}
    """The archives by file name, each with its upload time; set by :func:`upload_index`."""

    def do_GET(self) -> None:
        """A project's page (``/simple/<name>/``) or a file (``/files/<name>``)."""
        if self.path.startswith("/files/"):
            path = self.files[self.path.removeprefix("/files/")][0]
            self._answer(path.read_bytes(), "application/octet-stream")
            return
        project = self.path.strip("/").removeprefix("simple/")
        entries = [
            {"filename": name, "url": f"/files/{name}", "upload-time": uploaded,
             "hashes": {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()}}
            for name, (path, uploaded) in self.files.items()
            if name.startswith(project.replace("-", "_") + "-")
        ]  # fmt: skip
        page = {"meta": {"api-version": "1.1"}, "name": project, "files": entries}
        self._answer(json.dumps(page).encode(), "application/vnd.pypi.simple.v1+json")

    def _answer(self, body: bytes, kind: str) -> None:
        """Send ``body`` as ``kind``."""
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing."""


@pytest.fixture
def upload_index(fixture_sdists: dict[str, Path], backend_wheels: list[Path]) -> Iterator[str]:
    """The URL of an index with upload times: purepkg 1.0 in 2020, 2.0 in 2025."""
    times = {"purepkg-1.0": "2020-01-01T00:00:00Z", "purepkg-2.0": "2025-01-01T00:00:00Z"}
    UploadTimes.files = {fixture_sdists[key].name: (fixture_sdists[key], when)
                         for key, when in times.items()}  # fmt: skip
    epoch = "2019-01-01T00:00:00Z"
    UploadTimes.files |= {wheel.name: (wheel, epoch) for wheel in backend_wheels}
    server = ThreadingHTTPServer(("127.0.0.1", 0), UploadTimes)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    server.shutdown()
    server.server_close()


@pip_accepts("uploaded_prior_to")
def test_uploaded_prior_to_is_answered_by_the_package_index(
    isolated_env: dict[str, str], upload_index: str, make_venv: VenvFactory
) -> None:
    """The local index has purepkg 2.0, but it was uploaded too late: pip answers, as pip
    alone would, and pip-accel says why in one line."""
    accel_in(isolated_env, make_venv("seed"), "-i", upload_index, "purepkg")
    args = ["-i", upload_index, "--uploaded-prior-to", "2023-01-01T00:00:00Z", "purepkg"]
    installed, output = like_pip(isolated_env, make_venv, *args)
    assert installed["freeze"] == ["purepkg==1.0"]
    assert output.count("Handing the whole command to pip: --uploaded-prior-to") == 1
