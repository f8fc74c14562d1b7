"""Unit tests of :mod:`pip_accel.plan.lockfile`: which archive of a lock pip installs, if any."""

import pytest

from pip_accel.exceptions import LockFileError
from pip_accel.pip.requirements import lock_source
from pip_accel.plan.lockfile import LeftToPip, Target, read_lock

MARKERS = {"python_full_version": "3.11.2", "sys_platform": "linux", "python_version": "3.11"}
TAGS = ["cp311-cp311-manylinux_2_17_x86_64", "cp311-abi3-manylinux_2_17_x86_64", "py3-none-any"]
TARGET = Target(MARKERS, TAGS)

HEADER = 'lock-version = "1.0"\ncreated-by = "test"\n'


def package(
    name: str, *, wheels: tuple[str, ...] = (), sdist: bool = False, extra: str = ""
) -> str:
    """One ``[[packages]]`` table with these wheels (by file name) and, maybe, an sdist."""
    text = f'[[packages]]\nname = "{name}"\nversion = "1.0"\n{extra}\n'
    for wheel in wheels:
        text += (
            f'[[packages.wheels]]\nname = "{wheel}"\nurl = "https://x/{wheel}"\n'
            f'hashes = {{sha256 = "{"a" * 64}"}}\n'
        )
    if sdist:
        text += (
            f'[packages.sdist]\nname = "{name}-1.0.tar.gz"\nurl = "https://x/{name}-1.0.tar.gz"\n'
            f'hashes = {{sha256 = "{"b" * 64}"}}\n'
        )
    return text


def test_the_wheel_of_the_best_tag_is_chosen() -> None:
    """Of several wheels, the one whose tag the target prefers; the lock's order does not count."""
    wheels = ["a-1.0-py3-none-any.whl", "a-1.0-cp311-abi3-manylinux_2_17_x86_64.whl"]
    (chosen,) = read_lock("pylock.toml", HEADER + package("a", wheels=tuple(wheels)), TARGET)
    assert chosen.filename == wheels[1]
    assert (chosen.name, chosen.version, chosen.sha256) == ("a", "1.0", "a" * 64)


def test_the_sdist_when_no_wheel_fits_or_wheels_are_refused() -> None:
    """No fitting wheel: the sdist; with ``--no-binary`` for the project: the sdist first."""
    text = HEADER + package("a", wheels=("a-1.0-cp312-cp312-win_amd64.whl",), sdist=True)
    assert read_lock("pylock.toml", text, TARGET)[0].filename == "a-1.0.tar.gz"
    text = HEADER + package("a", wheels=("a-1.0-py3-none-any.whl",), sdist=True)
    assert read_lock("pylock.toml", text, TARGET)[0].is_wheel
    no_binary = Target(MARKERS, TAGS, lambda name: name == "a")
    assert not read_lock("pylock.toml", text, no_binary)[0].is_wheel


def test_markers_select_packages() -> None:
    """A package whose marker does not hold is left out; extras count as a set."""
    text = HEADER + package("a", sdist=True, extra="marker = \"sys_platform == 'win32'\"")
    text += package("b", sdist=True, extra="marker = \"'dev' in extras\"")
    text += package("c", sdist=True)
    assert [item.name for item in read_lock("pylock.toml", text, TARGET)] == ["c"]
    chosen = read_lock("pylock.toml", text, TARGET, extras={"dev"})
    assert [item.name for item in chosen] == ["b", "c"]


def test_pips_refusals() -> None:
    """requires-python, environments, lock-version, no archive for the target: pip's words."""
    cases = {
        'requires-python = ">=3.12"\n': "the Python version requirement '>=3.12'",
        "environments = [\"sys_platform == 'win32'\"]\n": "any of the environments",
    }
    for line, words in cases.items():
        with pytest.raises(LockFileError, match=words):
            read_lock("pylock.toml", HEADER + line + package("a", sdist=True), TARGET)
    with pytest.raises(LockFileError, match=r"pylock version 2\.0 is not supported"):
        read_lock("pylock.toml", 'lock-version = "2.0"\n' + package("a", sdist=True), TARGET)
    text = HEADER + package("a", wheels=("a-1.0-cp312-cp312-win_amd64.whl",))
    with pytest.raises(LockFileError, match="No wheel found matching the provided tags"):
        read_lock("pylock.toml", text, TARGET)


def test_direct_sources_are_left_to_pip() -> None:
    """vcs, directory and archive entries are direct references, which pip installs."""
    text = HEADER + '[[packages]]\nname = "a"\n[packages.directory]\npath = "src"\n'
    with pytest.raises(LeftToPip, match="directory"):
        read_lock("pylock.toml", text, TARGET)


def test_lock_file_names() -> None:
    """pip's rule: pylock.toml or pylock.<name>.toml, extras after the name."""
    assert lock_source("dir/pylock.toml[dev, test]") == (
        "dir/pylock.toml",
        frozenset({"dev", "test"}),
    )
    assert lock_source("pylock.ci.toml") == ("pylock.ci.toml", frozenset())
    assert lock_source("pylock.a.b.toml") is None
    assert lock_source("requirements.txt") is None
