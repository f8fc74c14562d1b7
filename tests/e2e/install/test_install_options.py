"""pip's install options through the real ``pip-accel`` command, checked with real pip.

Every test installs fixture projects served by a pypiserver on 127.0.0.1 (or a local
directory) into new virtual environments and checks what landed where: versions with
``pip list``, files on disk, exit codes and messages. Where pip-accel hands work to pip,
or must give pip's answer, the test compares with pip itself.

Any address but 127.0.0.1 is unreachable in these tests (a proxy that refuses every
connection), so that a download pip-accel makes from the wrong index fails instead of
silently reaching the public package registry.
"""

import json
import shutil
import sys
from importlib.util import MAGIC_NUMBER, cache_from_source
from pathlib import Path

import pytest

from support.commands import Command, describe, pip_accel_cmd, run
from support.fixtures import make_sdist, pure_project, write_files
from support.index import IndexFactory, PackageIndex, free_port
from support.venvs import Venv, VenvFactory, accel, installed_packages, pip_cmd

pytestmark = pytest.mark.every_pip  # pip's options and pip's answers to them

PYTHON_VERSION = f"python{sys.version_info.major}.{sys.version_info.minor}"
"""The name of the ``lib/pythonX.Y`` directory of the test venvs (same interpreter)."""


@pytest.fixture
def env(isolated_env: dict[str, str]) -> dict[str, str]:
    """``isolated_env`` in which only 127.0.0.1 is reachable, and failures are not retried."""
    dead = f"http://127.0.0.1:{free_port()}"
    proxies = {name: dead for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}
    return isolated_env | proxies | {"PIP_RETRIES": "0", "PIP_ACCEL_MAX_RETRIES": "0"}


def installer_of(site_packages: Path, dist_info: str) -> str:
    """The tool that installed a distribution, from its ``INSTALLER`` file."""
    return (site_packages / dist_info / "INSTALLER").read_text().strip()


def python_code(python: Path, code: str, env: dict[str, str], path: Path | None = None) -> str:
    """Run ``code`` with an interpreter (``PYTHONPATH=path`` if given); return its output."""
    extra = {"PYTHONPATH": str(path)} if path else {}
    return run([python, "-c", code], env | extra, check=True).stdout.strip()


def test_no_deps_installs_only_the_named_project(
    env: dict[str, str], package_index: PackageIndex, make_venv: VenvFactory
) -> None:
    """--no-deps: chain-a alone, without chain-b and chain-c."""
    venv = make_venv()
    accel(env, venv, "-i", package_index.url, "--no-deps", "chain-a")
    assert installed_packages(venv, env) == {"chain-a": "1.0"}


def test_force_reinstall_and_ignore_installed(
    env: dict[str, str], package_index: PackageIndex, make_venv: VenvFactory
) -> None:
    """A damaged installation is repaired by --force-reinstall and by -I, not by a plain run."""
    venv = make_venv()
    module = venv.site_packages / "chain_c" / "__init__.py"
    accel(env, venv, "-i", package_index.url, "chain-c")
    module.unlink()
    plain = accel(env, venv, "-i", package_index.url, "chain-c")
    assert "Nothing to do" in plain.stderr and not module.exists()
    for option in ("--force-reinstall", "-I"):
        module.unlink(missing_ok=True)
        accel(env, venv, "-i", package_index.url, option, "chain-c")
        assert module.is_file(), f"{option} did not install chain-c again"
        assert installed_packages(venv, env) == {"chain-c": "1.0"}
        dist_infos = [path.name for path in venv.site_packages.glob("chain_c-*.dist-info")]
        assert dist_infos == ["chain_c-1.0.dist-info"]
    assert 'VERSION = "1.0"' in module.read_text()


def test_only_binary_fails_like_pip_and_no_binary_builds(
    env: dict[str, str], package_index: PackageIndex, make_venv: VenvFactory
) -> None:
    """--only-binary :all: with only sdists: pip's error, exit 1; --no-binary :all: works.

    flit_core, the build back-end of chain-c, exists only as a wheel on the index, so it is
    exempted with ``--only-binary flit-core``, exactly as pip itself needs it to be.
    """
    venv = make_venv()
    refused = ["-i", package_index.url, "--only-binary", ":all:", "purepkg"]
    by_pip = run([*pip_cmd(venv), "install", *refused], env)
    assert by_pip.returncode == 1, describe(by_pip)
    assert "ERROR: No matching distribution found for purepkg" in by_pip.stderr
    failed = accel(env, venv, *refused, ok=False)
    assert failed.returncode == 1, describe(failed)
    assert "No matching distribution found for purepkg" in failed.stderr.splitlines()[-1]
    assert "Traceback" not in failed.stderr
    assert installed_packages(venv, env) == {}
    binary = ("--only-binary", "flit-core")
    accel(env, venv, "-i", package_index.url, "--no-binary", ":all:", *binary, "chain-c")
    assert installed_packages(venv, env) == {"chain-c": "1.0"}
    assert installer_of(venv.site_packages, "chain_c-1.0.dist-info") == "pip-accel"


def add_pre_release(package_index: PackageIndex, directory: Path) -> None:
    """Serve purepkg 3.0b1 too (built by flit_core, faster than setuptools)."""
    files = pure_project("purepkg", "3.0b1", flit=True)
    package_index.add(make_sdist(directory, "purepkg", "3.0b1", files))


def test_pre_releases_only_with_pre(
    env: dict[str, str], package_index: PackageIndex, make_venv: VenvFactory, tmp_path: Path
) -> None:
    """Without --pre purepkg 2.0 is installed; --pre -U replaces it with 3.0b1."""
    add_pre_release(package_index, tmp_path / "pre")
    venv = make_venv()
    accel(env, venv, "-i", package_index.url, "purepkg")
    assert installed_packages(venv, env) == {"purepkg": "2.0"}
    upgraded = accel(env, venv, "-i", package_index.url, "--pre", "-U", "purepkg")
    assert "Replaced purepkg 2.0" in upgraded.stderr
    assert installed_packages(venv, env) == {"purepkg": "3.0b1"}


def test_pre_release_in_the_local_index_needs_pre(
    env: dict[str, str], package_index: PackageIndex, make_venv: VenvFactory, tmp_path: Path
) -> None:
    """A pre-release that --pre put into the local index is not installed without --pre."""
    add_pre_release(package_index, tmp_path / "pre")
    pre, final = make_venv("pre"), make_venv("final")
    accel(env, pre, "-i", package_index.url, "--pre", "purepkg")
    assert installed_packages(pre, env) == {"purepkg": "3.0b1"}
    accel(env, final, "-i", package_index.url, "purepkg")
    assert installed_packages(final, env) == {"purepkg": "2.0"}


def test_extra_index_url(
    env: dict[str, str],
    make_package_index: IndexFactory,
    fixture_sdists: dict[str, Path],
    backend_wheels: list[Path],
    make_venv: VenvFactory,
) -> None:
    """A dependency found only on the --extra-index-url index is installed from there."""
    first = make_package_index([fixture_sdists["chain-b-1.0"], *backend_wheels])
    second = make_package_index([fixture_sdists["chain-c-1.0"], *backend_wheels])
    venv = make_venv()
    alone = accel(env, venv, "-i", first.url, "chain-b", ok=False)
    assert alone.returncode == 1 and "chain-c" in alone.stderr.splitlines()[-1], describe(alone)
    accel(env, venv, "-i", first.url, "--extra-index-url", second.url, "chain-b")
    assert installed_packages(venv, env) == {"chain-b": "1.0", "chain-c": "1.0"}


@pytest.mark.parametrize("where", ["command line", "requirements file"])
def test_find_links_without_index(
    env: dict[str, str],
    fixture_sdists: dict[str, Path],
    backend_wheels: list[Path],
    make_venv: VenvFactory,
    tmp_path: Path,
    where: str,
) -> None:
    """--no-index -f <directory>: the archives and build back-ends come from the directory.

    In a requirements file, a relative directory is relative to the file, as pip has it.
    """
    links = tmp_path / "links"
    links.mkdir()
    for path in (fixture_sdists["chain-b-1.0"], fixture_sdists["chain-c-1.0"], *backend_wheels):
        shutil.copy2(path, links)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("--no-index\n--find-links links\nchain-b\n")
    args: Command = (
        ["--no-index", "-f", links, "chain-b"] if where == "command line" else ["-r", requirements]
    )
    venv = make_venv()
    accel(env, venv, *args)
    assert installed_packages(venv, env) == {"chain-b": "1.0", "chain-c": "1.0"}


def test_index_url_in_a_requirements_file(
    env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
    tmp_path: Path,
) -> None:
    """--index-url inside a requirements file serves the requirements and their back-ends."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"--index-url {package_index.url}\nchain-c\n")
    venv = make_venv()
    accel(env, venv, "-r", requirements)
    assert installed_packages(venv, env) == {"chain-c": "1.0"}
    sources = Path(env["PIP_ACCEL_CACHE"]) / "sources"
    assert list(sources.glob("flit_core-*.whl")), "the build back-end was not kept"


def test_prefix_root_and_target(
    env: dict[str, str], package_index: PackageIndex, make_venv: VenvFactory, tmp_path: Path
) -> None:
    """--prefix, --root and --target put the package and its script where pip puts them."""
    venv = make_venv()
    prefix, root, target = tmp_path / "prefix", tmp_path / "root", tmp_path / "target"
    hello = "hello from scriptpkg"

    accel(env, venv, "-i", package_index.url, "--prefix", prefix, "scriptpkg")
    prefix_site = prefix / "lib" / PYTHON_VERSION / "site-packages"
    assert (prefix_site / "scriptpkg" / "__init__.py").is_file()
    assert installer_of(prefix_site, "scriptpkg-1.0.dist-info") == "pip-accel"
    script = run([prefix / "bin" / "scriptpkg-hello"], env | {"PYTHONPATH": str(prefix_site)})
    assert script.stdout.strip() == hello, describe(script)

    accel(env, venv, "-i", package_index.url, "--root", root, "scriptpkg")
    rooted = root / venv.path.relative_to(venv.path.anchor)
    assert (rooted / "lib" / PYTHON_VERSION / "site-packages" / "scriptpkg").is_dir()
    assert (rooted / "bin" / "scriptpkg-hello").is_file()

    accel(env, venv, "-i", package_index.url, "--target", target, "scriptpkg")
    code = "import scriptpkg; print(scriptpkg.__file__)"
    location = python_code(venv.python, code, env, path=target)
    assert Path(location) == target / "scriptpkg" / "__init__.py"
    script = run([target / "bin" / "scriptpkg-hello"], env | {"PYTHONPATH": str(target)})
    assert script.stdout.strip() == hello, describe(script)

    assert installed_packages(venv, env) == {}, "the venv itself must stay empty"


def test_target_records_no_direct_reference(
    env: dict[str, str], package_index: PackageIndex, make_venv: VenvFactory, tmp_path: Path
) -> None:
    """pip freeze shows a project installed with --target from an index as name==version."""
    target = tmp_path / "target"
    accel(env, make_venv(), "-i", package_index.url, "--target", target, "chain-c")
    frozen = run([sys.executable, "-m", "pip", "freeze", "--path", target], env, check=True)
    assert frozen.stdout.split() == ["chain-c==1.0"]


def test_user_gives_pips_answer(
    env: dict[str, str], package_index: PackageIndex, make_venv: VenvFactory, tmp_path: Path
) -> None:
    """--user: refused with pip's message in a venv; into ~/.local with system site-packages."""
    plain = make_venv("plain")
    args = ["-i", package_index.url, "--user", "chain-c"]
    by_pip = run([*pip_cmd(plain), "install", *args], env)
    by_accel = accel(env, plain, *args, ok=False)
    message = by_pip.stderr.strip().splitlines()[-1].removeprefix("ERROR: ")
    assert "--user" in message, describe(by_pip)
    assert by_accel.returncode == by_pip.returncode == 1, describe(by_accel)
    assert message in by_accel.stderr.splitlines()[-1]
    assert "Traceback" not in by_accel.stderr

    system = tmp_path / "system"
    command: Command = [
        sys.executable,
        "-m",
        "venv",
        "--without-pip",
        "--system-site-packages",
        system,
    ]
    run(command, env, check=True)
    venv = Venv(system)
    accel(env, venv, *args)
    user_site = Path(env["HOME"]) / ".local" / "lib" / PYTHON_VERSION / "site-packages"
    assert (user_site / "chain_c" / "__init__.py").is_file()
    assert not (venv.site_packages / "chain_c").exists()
    code = "import chain_c; print(chain_c.__file__)"
    assert Path(python_code(venv.python, code, env)) == user_site / "chain_c" / "__init__.py"


def test_bytecode_by_default_and_none_with_no_compile(
    env: dict[str, str], package_index: PackageIndex, make_venv: VenvFactory
) -> None:
    """Bytecode is written for the target interpreter, and not at all with --no-compile."""
    compiled, plain = make_venv("compiled"), make_venv("plain")
    accel(env, compiled, "-i", package_index.url, "chain-c")
    source = compiled.site_packages / "chain_c" / "__init__.py"
    bytecode = Path(cache_from_source(str(source)))
    assert bytecode.is_file()
    assert bytecode.read_bytes()[:4] == MAGIC_NUMBER
    accel(env, plain, "-i", package_index.url, "--no-compile", "chain-c")
    assert (plain.site_packages / "chain_c" / "__init__.py").is_file()
    assert not list(plain.site_packages.rglob("*.pyc"))


def write_local_project(directory: Path) -> Path:
    """Write ``localproj`` 0.1, a setuptools project that depends on chain-c."""
    pyproject_toml = (
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
        '\n[project]\nname = "localproj"\nversion = "0.1"\ndependencies = ["chain-c"]\n'
        '\n[tool.setuptools]\npackages = ["localproj"]\n'
    )
    files = {"localproj/__init__.py": "VALUE = 'original'\n", "pyproject.toml": pyproject_toml}
    return write_files(directory, files)


def test_editable_and_local_directory(
    env: dict[str, str], package_index: PackageIndex, make_venv: VenvFactory, tmp_path: Path
) -> None:
    """-e <dir> and <dir>: the dependency installed by pip-accel, the project by pip."""
    project = write_local_project(tmp_path / "project")
    code = "import localproj; print(localproj.VALUE)"
    editable, regular = make_venv("editable"), make_venv("regular")

    accel(env, editable, "-i", package_index.url, "-e", project)
    assert installed_packages(editable, env) == {"chain-c": "1.0", "localproj": "0.1"}
    assert installer_of(editable.site_packages, "chain_c-1.0.dist-info") == "pip-accel"
    assert installer_of(editable.site_packages, "localproj-0.1.dist-info") == "pip"
    assert python_code(editable.python, code, env) == "original"

    accel(env, regular, "-i", package_index.url, project)
    assert installed_packages(regular, env) == {"chain-c": "1.0", "localproj": "0.1"}
    assert installer_of(regular.site_packages, "chain_c-1.0.dist-info") == "pip-accel"
    assert installer_of(regular.site_packages, "localproj-0.1.dist-info") == "pip"

    (project / "localproj" / "__init__.py").write_text("VALUE = 'changed'\n")
    assert python_code(editable.python, code, env) == "changed"
    assert python_code(regular.python, code, env) == "original"


@pytest.mark.once
def test_active_virtual_environment_and_python_directory(
    env: dict[str, str], package_index: PackageIndex, make_venv: VenvFactory
) -> None:
    """$VIRTUAL_ENV is the target of install and of pass-through; --python takes a directory."""
    active, other = make_venv("active"), make_venv("other")
    in_venv = env | {"VIRTUAL_ENV": str(active.path)}
    installed = run([*pip_accel_cmd(), "install", "-i", package_index.url, "chain-c"], in_venv)
    assert installed.returncode == 0, describe(installed)
    assert "from the active virtual environment" in installed.stderr
    assert installed_packages(active, env) == {"chain-c": "1.0"}

    listed = run([*pip_accel_cmd(), "list", "--format", "json"], in_venv)
    assert listed.returncode == 0, describe(listed)
    assert json.loads(listed.stdout) == [{"name": "chain-c", "version": "1.0"}]

    command: Command = [
        *pip_accel_cmd(),
        "install",
        "--python",
        other.path,
        "-i",
        package_index.url,
    ]
    by_directory = run([*command, "chain-c"], env)
    assert by_directory.returncode == 0, describe(by_directory)
    assert installed_packages(other, env) == {"chain-c": "1.0"}


def test_quiet_and_verbose(
    env: dict[str, str], package_index: PackageIndex, make_venv: VenvFactory
) -> None:
    """-v adds DEBUG lines (the pip commands run), also while downloading; -q drops INFO."""
    verbose, quiet = make_venv("verbose"), make_venv("quiet")
    loud = accel(env, verbose, "-i", package_index.url, "-v", "chain-c")
    assert any(" DEBUG Running " in line for line in loud.stderr.splitlines()), describe(loud)
    assert "Looking in links" in loud.stdout + loud.stderr, "pip's own output is not shown"
    assert installed_packages(verbose, env) == {"chain-c": "1.0"}
    hushed = accel(env, quiet, "-i", package_index.url, "-q", "chain-c")
    assert " INFO " not in hushed.stderr and " DEBUG " not in hushed.stderr, describe(hushed)
    assert installed_packages(quiet, env) == {"chain-c": "1.0"}


def test_dry_run_and_report_describe_pip_accels_plan(
    env: dict[str, str], package_index: PackageIndex, make_venv: VenvFactory, tmp_path: Path
) -> None:
    """--dry-run installs nothing; --report writes pip's report of what pip-accel installed
    (more in ``test_dry_run_reports.py``)."""
    venv = make_venv()
    dry = accel(env, venv, "-i", package_index.url, "--dry-run", "chain-b")
    assert "Would install chain-b-1.0 chain-c-1.0" in dry.stdout, describe(dry)
    assert installed_packages(venv, env) == {}

    report = tmp_path / "report.json"
    accel(env, venv, "-i", package_index.url, "--report", report, "chain-c")
    items = json.loads(report.read_text())["install"]
    assert [item["metadata"]["name"] for item in items] == ["chain-c"]
    assert installed_packages(venv, env) == {"chain-c": "1.0"}
    assert installer_of(venv.site_packages, "chain_c-1.0.dist-info") == "pip-accel"


def test_local_archive_path(
    env: dict[str, str],
    package_index: PackageIndex,
    make_venv: VenvFactory,
    fixture_sdists: dict[str, Path],
) -> None:
    """An sdist given by its path is installed, with a direct_url.json naming that file."""
    archive = fixture_sdists["flitpkg-1.0"]
    venv = make_venv()
    accel(env, venv, "-i", package_index.url, archive)
    assert installed_packages(venv, env) == {"flitpkg": "1.0"}
    dist_info = venv.site_packages / "flitpkg-1.0.dist-info"
    assert installer_of(venv.site_packages, dist_info.name) == "pip-accel"
    direct_url = json.loads((dist_info / "direct_url.json").read_text())
    assert direct_url["url"] == archive.as_uri()
    assert "archive_info" in direct_url


def test_a_constraints_file_named_inside_a_requirements_file_asks_for_nothing(
    env: dict[str, str], package_index: PackageIndex, make_venv: VenvFactory, tmp_path: Path
) -> None:
    """``-c limits.txt`` inside requirements.txt: pip reads its pins as constraints, so they are
    neither installed nor fetched; pip-accel gives pip's environment and fetches no archive of
    a project only constrained."""
    (tmp_path / "limits.txt").write_text("chain-a==1.0\n")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"--index-url {package_index.url}\nchain-c\n-c limits.txt\n")
    by_pip, venv = make_venv("by-pip"), make_venv()
    run([*pip_cmd(by_pip), "install", "-r", requirements], env, check=True)
    accel(env, venv, "-r", requirements)
    assert installed_packages(venv, env) == installed_packages(by_pip, env) == {"chain-c": "1.0"}
    fetched = [path.name for path in (Path(env["PIP_ACCEL_CACHE"]) / "sources").iterdir()]
    assert not [name for name in fetched if name.startswith("chain_a-")], fetched
