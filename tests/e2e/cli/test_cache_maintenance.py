"""``pip-accel cache`` run for real: on a populated data directory, a size bound, a bucket, keys.

The data directory is filled by real installs from the tests' package index: the size
bound over a sequence of installs, pruning while another install runs, and the bucket's
prune against moto's server.
"""

import subprocess
import time
from pathlib import Path

import pytest

from pip_accel.datadir.lock import DataLock
from pip_accel.upkeep.entries import DataDirectory, Entry

from support.bench import Bench
from support.commands import describe, pip_accel_cmd, run
from support.s3 import BUCKET, S3Server, worker
from support.venvs import Venv, accel, installed_packages, pip_cmd


def cache(env: dict[str, str], *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    """Run ``pip-accel cache ARGS``; fail the test unless it exits with ``code``."""
    result = run([*pip_accel_cmd(), "cache", *args], env)
    assert result.returncode == code, describe(result)
    return result


def entries(env: dict[str, str]) -> list[Entry]:
    """The entries of the test's data directory."""
    return DataDirectory(Path(env["PIP_ACCEL_CACHE"])).entries()


def counts(env: dict[str, str]) -> dict[str, int]:
    """How many entries of each kind the data directory holds."""
    found = entries(env)
    return {
        kind: sum(item.kind == kind for item in found)
        for kind in ("source", "wheel", "tree", "plan")
    }


def works(env: dict[str, str], venv: Venv, *modules: str) -> None:
    """The environment imports ``modules`` and pip finds it consistent."""
    run([venv.python, "-c", f"import {', '.join(modules)}"], env, check=True)
    run([*pip_cmd(venv), "check"], env, check=True)


@pytest.mark.once
def test_the_cache_command_on_a_populated_data_directory(bench: Bench) -> None:
    """info, list, remove, prune by last use, purge; each heals on the next install."""
    env = bench.env
    venv = bench.make_venv("first")
    accel(env, venv, "--index-url", bench.index.url, "purepkg==1.0", "chain-a==1.0")
    before = counts(env)
    assert before["wheel"] == 4 and before["plan"] == 1
    assert before["tree"] >= 4, "the four wheels' (and the build back-ends' for builds)"
    assert before["source"] >= 5, "four sdists and their build back-end"

    info = cache(env, "info").stdout
    assert "Number of built wheels: 4\n" in info and "Number of stored plans: 1\n" in info
    assert "Number of warm starts: 1\n" in info, info  # the install's command line, kept
    assert "Number of interpreter probes: 0\n" not in info, info  # the venv's probe
    assert cache(env, "dir").stdout.strip() == env["PIP_ACCEL_CACHE"]
    listed = cache(env, "list", "chain-a").stdout
    assert "chain_b" not in listed
    assert listed.count(" - chain_a-1.0") == 3, listed  # sdist, wheel, tree

    wrong = cache(env, "remove", code=2)
    assert wrong.stderr.count("\n") == 1 and "Traceback" not in wrong.stderr
    assert counts(env) == before, "a wrong command removed something"

    removed = cache(env, "remove", "chain-c").stdout
    assert removed.startswith("Removed 4 entries"), removed
    assert "1 stored plan" in removed, "the plan names chain-c's wheel"
    works(env, venv, "purepkg", "chain_a", "chain_c")  # hard links keep their files

    # purepkg's entries were last used 40 days ago: pruning by age takes just those.
    month = time.time() - 40 * 86400
    data = DataDirectory(Path(env["PIP_ACCEL_CACHE"]))
    for item in entries(env):
        if item.project == "purepkg":
            subprocess.run(["touch", "-h", "-d", f"@{month}", str(item.stamp)], check=True)
    pruned = cache(env, "prune", "--older-than", "30d").stdout
    assert pruned.startswith("Removed 3 entries"), pruned  # sdist, wheel, tree
    assert not [item for item in data.entries() if item.project == "purepkg"]

    purged = cache(env, "purge").stdout
    assert purged.startswith("Removed ") and counts(env) == dict.fromkeys(before, 0)
    data_directory = Path(env["PIP_ACCEL_CACHE"])
    assert not (data_directory / "starts").exists() and not (data_directory / "probes").exists()
    venv = bench.make_venv("third")
    accel(env, venv, "--index-url", bench.index.url, "purepkg==1.0")
    works(env, venv, "purepkg")


@pytest.mark.once
def test_the_size_bound_holds_over_a_sequence_of_installs(bench: Bench) -> None:
    """Each install ends within max-cache-size, keeping what it used; trees go first."""
    index = ["--index-url", bench.index.url]
    accel(bench.env, bench.make_venv("v0"), *index, "purepkg==1.0")
    bound = sum(item.size for item in entries(bench.env))
    env = {**bench.env, "PIP_ACCEL_MAX_CACHE_SIZE": str(bound)}
    sizes = [bound]
    for number, project in enumerate(["chain-a==1.0", "flitpkg==1.0", "purepkg==1.0"], 1):
        wheels_before = {item.path for item in entries(env) if item.kind == "wheel"}
        venv = bench.make_venv(f"v{number}")
        result = accel(env, venv, *index, project)
        found = entries(env)
        sizes.append(sum(item.size for item in found))
        assert sizes[-1] <= bound, f"{sizes} over {bound}\n{describe(result)}"
        if number == 1:  # the cache was full to the byte: something had to go
            assert "to keep the data directory within max-cache-size" in result.stderr
        name = project.split("==")[0]
        used = {item.kind for item in found if item.project == name}
        assert {"wheel", "tree"} <= used, f"the run's own entries went: {used}"
        if wheels_before - {item.path for item in found}:  # a wheel went: every other tree first
            installed = set(installed_packages(venv, env))  # the project and its dependencies
            assert {item.project for item in found if item.kind == "tree"} == installed
        works(env, venv, name.replace("-", "_"))
    print(f"bound {bound} bytes; after each install: {sizes}")


@pytest.mark.once
def test_pruning_waits_for_an_install_in_progress(bench: Bench) -> None:
    """The install and the prune both succeed, and the environment is whole."""
    venv = bench.make_venv()
    command = [*pip_accel_cmd(), "install", "--python", str(venv.python)]
    install = subprocess.Popen(
        [*command, "--index-url", bench.index.url, "chain-a==1.0"],
        env=bench.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lock = DataLock(Path(bench.env["PIP_ACCEL_CACHE"]))
    deadline = time.monotonic() + 60
    while install.poll() is None and time.monotonic() < deadline:
        with lock.exclusive(wait=False) as alone:
            if not alone:
                break
        time.sleep(0.05)
    assert install.poll() is None, "the install ended before the prune started"
    pruned = cache(bench.env, "prune", "--max-size", "1B")
    _, stderr = install.communicate(timeout=300)
    assert install.returncode == 0, stderr
    assert "Waiting for the pip-accel installs" in pruned.stderr
    assert counts(bench.env)["tree"] == 0, "the prune ran after the install"
    works(bench.env, venv, "chain_a", "chain_b", "chain_c")


@pytest.mark.backends
def test_the_bucket_is_pruned_by_age_and_shown(isolated_env: dict[str, str], s3: S3Server) -> None:
    """Objects stored before the span go; newer ones, and other prefixes' objects, stay."""
    client = s3.client()
    plan, tree = f"ci/v2/plans/{'a' * 64}.json", f"ci/v2/trees/cpython-311/{'b' * 64}-2.tar.gz"
    others = ["ci/v2/notes.txt", "ci/v2/trees/README", "other/v2/plans/old.json"]
    for key in (plan, tree, *others):
        client.put_object(Bucket=BUCKET, Key=key, Body=b"x" * 100)
    time.sleep(6)
    new = f"ci/v2/plans/{'c' * 64}.json"
    client.put_object(Bucket=BUCKET, Key=new, Body=b"x" * 10)
    env = worker(isolated_env, s3, "admin")
    everything = sorted([new, *others])
    refused = cache(env, "prune", "--s3", "--older-than", "0d", code=2)
    assert "give one day or more" in refused.stderr and refused.stderr.count("\n") == 1
    assert s3.keys(BUCKET) == sorted([plan, tree, *everything]), "nothing was removed"
    result = cache(env, "prune", "--s3", "--older-than", "4s", "--yes")
    assert result.stdout.startswith("Removed 2 objects (200 bytes)"), result.stdout
    assert "Leaving 2 other objects under s3://pip-accel-ci/ci/ alone" in result.stderr
    assert s3.keys(BUCKET) == everything
    info = cache(env, "info", "--s3").stdout
    assert "S3 stored plans: 1 (10 bytes)" in info
    refused = cache(
        {**env, "PIP_ACCEL_S3_READONLY": "true"}, "prune", "--s3", "--older-than", "1d", code=1
    )
    assert "read-only" in refused.stderr and refused.stderr.count("\n") == 1


@pytest.mark.once
def test_keygen_writes_a_key_pair_and_never_overwrites_one(
    isolated_env: dict[str, str], tmp_path: Path
) -> None:
    """``pip-accel cache keygen FILE``: a private key only its owner reads, FILE.pub in the
    form s3-trusted-keys reads; a second call refuses with one line and changes nothing."""
    key = tmp_path / "ci-key"
    cache(isolated_env, "keygen", str(key))
    assert key.stat().st_mode & 0o077 == 0
    public = Path(f"{key}.pub").read_text()
    assert public.startswith("ssh-ed25519 ")
    before = key.read_bytes()
    again = run([*pip_accel_cmd(), "cache", "keygen", str(key)], isolated_env)
    assert again.returncode != 0 and "Traceback" not in again.stderr, describe(again)
    assert len(again.stderr.strip().splitlines()) == 1, describe(again)
    assert key.read_bytes() == before and Path(f"{key}.pub").read_text() == public
