"""What the user reads, through the real command: pip's details of a failure, plain log lines.

Each test runs ``pip-accel install`` against the fixture index and, where pip says something
of its own, pip on the same input, to check that pip-accel passes on what pip said.
"""

import pytest

from support.bench import Bench
from support.commands import run
from support.venvs import accel, pip_cmd

pytestmark = pytest.mark.every_pip  # pip's messages, passed on

WRONG_HASH = "0" * 64
"""A sha256 that no fixture archive has."""


def pips_details(output: str, headline: str) -> list[str]:
    """The indented lines pip writes below its error that starts with ``headline``."""
    lines = output.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith(f"ERROR: {headline}"))
    details = []
    for line in lines[start + 1 :]:
        if not line[:1].isspace() or not line.strip():
            break
        details.append(line.rstrip())
    return details


def test_hash_mismatch_names_the_archive_and_both_hashes_as_pip(bench: Bench) -> None:
    """A wrong ``--hash`` fails with pip's lines: the archive, the hash expected and the one got."""
    requirements = bench.tmp_path / "requirements.txt"
    requirements.write_text(f"purepkg==1.0 --hash=sha256:{WRONG_HASH}\n")
    args = ["--index-url", bench.index.url, "-r", str(requirements)]
    pip = run([*pip_cmd(bench.make_venv("pip")), "install", *args], bench.env)
    assert pip.returncode == 1
    expected = pips_details(pip.stdout + pip.stderr, "THESE PACKAGES DO NOT MATCH THE HASHES")
    assert any(f"Expected sha256 {WRONG_HASH}" in line for line in expected)
    assert any(line.strip().startswith("Got ") for line in expected)

    result = accel(bench.env, bench.make_venv("accel"), *args, ok=False)
    assert result.returncode == 1
    errors = result.stderr.split(" ERROR ", 1)[1].splitlines()
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in errors[0]
    assert errors[1:] == expected, result.stderr


ALARMING = ("cannot", "could not", "interrupted", "failed", "error", "not find")
"""Words that, in an INFO line, make normal work read like a failure."""


@pytest.mark.once
def test_the_info_lines_of_first_runs_read_as_normal_work(bench: Bench) -> None:
    """Runs that meet new requirements say what they do, in words that alarm nobody.

    The second run's local index has chain-c only, so pip, asked first with the local index
    alone, finds no chain-a; the third meets purepkg after a run that took chain-c from the
    local index again (and left nothing as if interrupted).
    """
    index = ["--index-url", bench.index.url]
    runs = [
        accel(bench.env, bench.make_venv(name), *index, *requirements)
        for name, requirements in [
            ("one", ["chain-c"]),
            ("two", ["chain-a"]),
            ("three", ["purepkg"]),
        ]
    ]
    expected = (
        "INFO The local index has nothing that satisfies chain-a yet: asking the package index."
    )
    assert expected in runs[1].stderr
    for result in runs:
        info = [line for line in result.stderr.splitlines() if " INFO " in line]
        assert info, result.stderr
        alarming = [line for line in info if any(word in line.lower() for word in ALARMING)]
        assert alarming == [], result.stderr
