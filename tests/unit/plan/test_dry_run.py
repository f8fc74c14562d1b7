"""Unit tests of :mod:`pip_accel.plan.dry_run`: the archive a report names, the extras asked."""

from pathlib import Path

from pip_accel.pip.command_line import parse_install
from pip_accel.plan.dry_run import requested_extras, source_archive
from pip_accel.sources.local_index import LocalIndex

from support.requirements import with_files


def test_source_archive_is_the_index_wheel_or_the_sdist_it_was_built_from(tmp_path: Path) -> None:
    """A downloaded wheel is itself; a built one is its sdist, told apart by the cache's sha256."""
    index = LocalIndex(tmp_path / "sources")
    downloaded = index.directory / "demo-1.0-py3-none-any.whl"
    downloaded.write_bytes(b"wheel")
    assert source_archive(downloaded, index) == downloaded
    tar, zipped = index.directory / "built-2.0.tar.gz", index.directory / "built-2.0.zip"
    tar.write_bytes(b"tar")
    zipped.write_bytes(b"zip")
    cached = tmp_path / "cache" / "ns" / "built" / "2.0" / index.sha256(zipped)
    cached.mkdir(parents=True)
    wheel = cached / "built-2.0-py3-none-any.whl"
    assert source_archive(wheel, index) == zipped
    orphan = tmp_path / "cache" / "other-1.0-py3-none-any.whl"
    assert source_archive(orphan, index) == orphan


def test_requested_extras_come_from_arguments_and_requirement_files(tmp_path: Path) -> None:
    """Extras of arguments and ``-r`` files (nested too) count, normalized; constraints do not."""
    nested = tmp_path / "nested.txt"
    nested.write_text("Demo[Use_Chardet] ; python_version > '2'\n-e ./somewhere\n")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("-r nested.txt\nother[b,a] --hash=sha256:00\n./local-dir\n")
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("third[never]==1.0\n")
    arguments = ["demo[socks]==1.0", "-r", str(requirements), "-c", str(constraints)]
    command_line = parse_install(arguments)
    assert requested_extras(*with_files(command_line)) == {
        "demo": {"socks", "use-chardet"},
        "other": {"a", "b"},
    }
