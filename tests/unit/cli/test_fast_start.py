"""Unit tests of ``pip_accel.cli.fast_start``: the command line kept for a warm start.

pip's parser reads real command lines here (in process); the kept starts live in
``tmp_path``, and the configuration files are files there too. No process, no server.
"""

import json
from pathlib import Path

import pytest

from pip_accel.cli.fast_start import Start, StartRecords, decode, encode, start_key
from pip_accel.pip.command_line import parse_install
from pip_accel.plan.stored import _stable

from support.aged import old_and_recent

ARGV = ["install", "-r", "requirements.txt", "--no-binary", "cext", "--config-settings", "a=b"]
"""A command line with options whose values are pip's objects, sets and dicts."""

ENVIRON = {"HOME": "/home/me", "PIP_INDEX_URL": "http://127.0.0.1/simple", "TERM": "xterm"}
"""An environment with a pip variable, one that moves pip's files and one that does not."""


def kept(tmp_path: Path, config: Path, argv: list[str] = ARGV) -> StartRecords:
    """The kept starts of ``tmp_path``, with ``argv`` parsed by pip and kept."""
    records = StartRecords(tmp_path / "starts")
    command_line = parse_install(argv[1:])
    records.store(argv, ENVIRON, "/work", Start(command_line, ["-v"]), [str(config)])
    return records


def canonical(values: object) -> str:
    """Option values as the stored plan's key writes them (equal values, equal text)."""
    return json.dumps(vars(values), sort_keys=True, default=_stable)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A pip configuration file."""
    path = tmp_path / "pip.conf"
    path.write_text("[global]\ntimeout = 5\n")
    return path


def test_a_kept_start_gives_what_pips_parser_made(tmp_path: Path, config: Path) -> None:
    """The same command line and environment: the options, groups and general options back,
    equal to pip's parse as the stored plan's key sees them (pip's objects by their fields)."""
    start = kept(tmp_path, config).load(ARGV, ENVIRON, "/work")
    assert start is not None
    parsed = parse_install(ARGV[1:])
    assert canonical(start.command_line.options) == canonical(parsed.options)
    assert start.command_line.groups == parsed.groups
    assert start.command_line.arguments == parsed.arguments == []
    assert start.general == ["-v"]
    control = start.command_line.options.format_control
    assert (control.no_binary, control.only_binary) == ({"cext"}, set())
    assert type(control).__name__ == "FormatControl"
    assert start.command_line.options.config_settings == {"a": "b"}


@pytest.mark.parametrize(
    ("argv", "environ", "cwd"),
    [
        (["install", "-r", "requirements.txt"], ENVIRON, "/work"),
        ([*ARGV, "-U"], ENVIRON, "/work"),
        (ARGV, {**ENVIRON, "PIP_INDEX_URL": "http://127.0.0.1/other"}, "/work"),
        (ARGV, {**ENVIRON, "PIP_NO_DEPS": "1"}, "/work"),
        (ARGV, {k: v for k, v in ENVIRON.items() if k != "PIP_INDEX_URL"}, "/work"),
        (ARGV, {**ENVIRON, "HOME": "/home/other"}, "/work"),
        (ARGV, {**ENVIRON, "XDG_CONFIG_HOME": "/etc/other"}, "/work"),
        (ARGV, ENVIRON, "/elsewhere"),
    ],
    ids=["other-words", "one-more-option", "other-pip-variable", "new-pip-variable",
         "pip-variable-gone", "other-home", "other-xdg", "other-directory"],
)  # fmt: skip
def test_what_misses(
    tmp_path: Path, config: Path, argv: list[str], environ: dict[str, str], cwd: str
) -> None:
    """Other words, another pip variable or directory of pip's files: no kept start."""
    assert kept(tmp_path, config).load(argv, environ, cwd) is None


def test_other_variables_do_not_miss(tmp_path: Path, config: Path) -> None:
    """A variable pip does not read (and ``$VIRTUAL_ENV``, read at run time) is no miss."""
    environ = {**ENVIRON, "TERM": "dumb", "VIRTUAL_ENV": "/tmp/venv"}
    assert kept(tmp_path, config).load(ARGV, environ, "/work") is not None


@pytest.mark.parametrize("change", ["edited", "removed"])
def test_a_changed_configuration_file_misses(tmp_path: Path, config: Path, change: str) -> None:
    """A configuration file of pip's that changed or went away is a miss."""
    records = kept(tmp_path, config)
    if change == "edited":
        config.write_text("[global]\ntimeout = 6\n")
    else:
        config.unlink()
    assert records.load(ARGV, ENVIRON, "/work") is None


def test_a_new_configuration_file_misses(tmp_path: Path, config: Path) -> None:
    """A configuration file of pip's that was not there and now is, is a miss."""
    config.unlink()
    records = kept(tmp_path, config)
    assert records.load(ARGV, ENVIRON, "/work") is not None
    config.write_text("[install]\nno-deps = true\n")
    assert records.load(ARGV, ENVIRON, "/work") is None


@pytest.mark.parametrize("damage", ["{not json", "[]", '{"format": 1}'])
def test_a_damaged_start_misses(tmp_path: Path, config: Path, damage: str) -> None:
    """A kept start that is not JSON, or not of this layout, is a miss (no error)."""
    records = kept(tmp_path, config)
    path = tmp_path / "starts" / f"{start_key(ARGV, ENVIRON, '/work')}.json"
    path.write_text(damage)
    assert records.load(ARGV, ENVIRON, "/work") is None


def test_a_start_of_another_key_misses(tmp_path: Path, config: Path) -> None:
    """A kept start copied to another key's name answers nothing."""
    records = kept(tmp_path, config)
    source = tmp_path / "starts" / f"{start_key(ARGV, ENVIRON, '/work')}.json"
    other = ["install", "-r", "other.txt"]
    source.rename(tmp_path / "starts" / f"{start_key(other, ENVIRON, '/work')}.json")
    assert records.load(other, ENVIRON, "/work") is None


def test_a_value_of_another_kind_is_not_kept(tmp_path: Path, config: Path) -> None:
    """An option value that is no plain value nor pip's value object: nothing is kept."""
    records = StartRecords(tmp_path / "starts")
    command_line = parse_install(ARGV[1:])
    command_line.options.callback = print
    records.store(ARGV, ENVIRON, "/work", Start(command_line, []), [str(config)])
    assert not (tmp_path / "starts").exists()


def test_values_come_back_equal() -> None:
    """Sets, tuples, dicts and lists come back as what they were, through JSON."""
    value = {"a": [("x", 1), {"y", "z"}, frozenset({"w"})], "b": None, "c": 1.5}
    assert decode(json.loads(json.dumps(encode(value)))) == value


def test_the_same_install_for_another_python_finds_the_start(tmp_path: Path, config: Path) -> None:
    """``--python VALUE`` is left out of the key and put back: another venv, the same start."""
    records = kept(tmp_path, config, ["install", "--python", "/a/bin/python", *ARGV[1:]])
    argv = ["install", "--python", "/b/bin/python", *ARGV[1:]]
    start = records.load(argv, ENVIRON, "/work")
    assert start is not None
    parsed = parse_install(argv[1:])
    assert canonical(start.command_line.options) == canonical(parsed.options)
    assert start.command_line.groups == parsed.groups
    assert start.command_line.options.python == "/b/bin/python"


@pytest.mark.parametrize(
    "argv",
    [
        ["install", "--python", "/b/bin/python", "-r", "other.txt"],
        ["install", "--python", "-r", "requirements.txt"],
        ["install", "--log", "/b/bin/python", *ARGV[1:]],
        ["install", *ARGV[1:], "--python", "/b/bin/python"],
    ],
    ids=["other-words", "option-as-value", "other-option", "other-place"],
)
def test_another_python_with_other_words_misses(
    tmp_path: Path, config: Path, argv: list[str]
) -> None:
    """Only the value of ``--python`` is left out: any other difference is a miss."""
    records = kept(tmp_path, config, ["install", "--python", "/a/bin/python", *ARGV[1:]])
    assert records.load(argv, ENVIRON, "/work") is None


@pytest.mark.parametrize(
    "argv",
    [
        ["install", "--python=/a/bin/python", "-r", "requirements.txt"],
        ["install", "--python-version", "3.11", "--python", "/a/x", "--python", "/a/y", "-r", "x"],
        ["install", "--python", "/a/bin/python", "--python", "/a/bin/python", "-r", "x.txt"],
        ["install", "--python", "requirements.txt", "-r", "requirements.txt"],
    ],
    ids=["equals-form", "given-twice", "twice-the-same", "value-also-elsewhere"],
)
def test_other_forms_of_python_are_kept_by_their_words(
    tmp_path: Path, config: Path, argv: list[str]
) -> None:
    """Other forms keep the value in the key: found again only with the same words."""
    records = kept(tmp_path, config, argv)
    assert records.load(argv, ENVIRON, "/work") is not None
    other = [word.replace("/a/", "/b/") for word in argv]
    if other != argv:
        assert records.load(other, ENVIRON, "/work") is None


def test_an_unreadable_configuration_file_keeps_nothing(tmp_path: Path) -> None:
    """A configuration file that cannot be read (a directory here): nothing is kept, no error."""
    records = StartRecords(tmp_path / "starts")
    start = Start(parse_install(ARGV[1:]), [])
    records.store(ARGV, ENVIRON, "/work", start, [str(tmp_path)])
    assert not (tmp_path / "starts").exists()


def test_storing_a_start_removes_those_written_long_ago(tmp_path: Path, config: Path) -> None:
    """A start written more than ``kept_for`` ago goes when another is stored; a recent
    one stays (starts do not pile up for ever, say one per CI job's directory)."""
    directory = tmp_path / "starts"
    old, recent = old_and_recent(directory)
    records = StartRecords(directory, kept_for=600)
    records.store(ARGV, ENVIRON, "/work", Start(parse_install(ARGV[1:]), []), [str(config)])
    assert not old.exists() and recent.exists()
    assert records.load(ARGV, ENVIRON, "/work") is not None
