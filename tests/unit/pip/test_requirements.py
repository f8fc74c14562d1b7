"""Unit tests of ``pip_accel.pip.requirements``: requirement files walked as pip walks them.

The files are real small files in ``tmp_path``; the command lines are read by pip's own
parser (``parse_install``), which runs in-process and touches no index.
"""

import hashlib
from pathlib import Path

import pytest

from pip_accel.pip.command_line import parse_install
from pip_accel.pip.format_choice import FormatChoice, choice_options
from pip_accel.pip.requirements import (
    RequirementFiles,
    exact_requirements,
    index_options,
    logical_lines,
    names_projects_only,
    names_remote_files,
    names_source_trees,
    pins,
    requirement_files,
    requirement_texts,
    uses_hashes,
)

from support.requirements import with_files


def write(path: Path, text: str) -> Path:
    """Write a requirements file (and its directory) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_logical_lines_join_continuations_and_drop_comments(tmp_path: Path) -> None:
    """Backslash continuations are one line; comments and blank lines are gone."""
    path = write(
        tmp_path / "r.txt", "# header\ndemo==1.0 \\\n  --hash=sha256:ab  # pin\n\nurl#frag\n"
    )
    assert list(logical_lines(path)) == ["demo==1.0    --hash=sha256:ab", "url#frag"]


def test_nested_files_are_found_once_each(tmp_path: Path) -> None:
    """``-r`` and ``-c`` (either spelling) are followed; a cycle is walked once."""
    top = write(tmp_path / "top.txt", "-r sub/a.txt\n--constraint=c.txt\n")
    write(tmp_path / "sub" / "a.txt", "--requirement a.txt\n-r missing.txt\n")
    write(tmp_path / "c.txt", "demo<2\n")
    found = requirement_files(parse_install(["-r", str(top)]))
    assert found == [top, tmp_path / "sub" / "a.txt", tmp_path / "c.txt"]


def test_cycle_through_a_parent_directory_is_walked_once(tmp_path: Path) -> None:
    """``top.txt`` → ``sub/a.txt`` → ``../top.txt`` names ``top.txt`` again: walked once."""
    top = write(tmp_path / "top.txt", "-r sub/a.txt\n")
    write(tmp_path / "sub" / "a.txt", "-r ../top.txt\n")
    assert requirement_files(parse_install(["-r", str(top)])) == [top, tmp_path / "sub" / "a.txt"]


def test_constraints_on_the_command_line_count(tmp_path: Path) -> None:
    """``-c`` files on the command line are walked after the requirement files."""
    req = write(tmp_path / "r.txt", "demo\n")
    con = write(tmp_path / "c.txt", "demo<2\n")
    assert requirement_files(parse_install(["-c", str(con), "-r", str(req)])) == [req, con]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("demo==1.0 --hash=sha256:" + "0" * 64 + "\n", True),
        ("--require-hashes\ndemo==1.0\n", True),
        ("demo==1.0  # --hash in a comment\n", False),
        ("demo-hash==1.0\n", False),
    ],
)
def test_hash_mode_is_found_in_files(tmp_path: Path, text: str, expected: bool) -> None:
    """Any ``--hash`` or ``--require-hashes`` in a (nested) file turns hash mode on."""
    write(tmp_path / "nested.txt", text)
    top = write(tmp_path / "top.txt", "-r nested.txt\n")
    assert uses_hashes(*with_files(parse_install(["-r", str(top)]))) is expected


def test_hash_mode_from_the_command_line() -> None:
    """``--require-hashes`` on the command line is enough."""
    assert uses_hashes(*with_files(parse_install(["--require-hashes", "demo==1.0"])))
    assert not uses_hashes(*with_files(parse_install(["demo==1.0"])))


def test_remote_files_are_noticed(tmp_path: Path) -> None:
    """A URL as a requirements file, named directly or nested, is remote."""
    assert names_remote_files(*with_files(parse_install(["-r", "https://example.org/r.txt"])))
    top = write(tmp_path / "top.txt", "-c https://example.org/c.txt\n")
    assert names_remote_files(*with_files(parse_install(["-r", str(top)])))
    local = write(tmp_path / "local.txt", "demo\n")
    assert not names_remote_files(*with_files(parse_install(["-r", str(local)])))


def test_index_options_of_the_files(tmp_path: Path) -> None:
    """Index options become tokens; a relative ``--find-links`` that exists is made absolute."""
    (tmp_path / "links").mkdir()
    text = "-i https://mirror/simple\n--find-links links\n-f elsewhere\n--no-index\ndemo\n"
    top = write(tmp_path / "r.txt", text)
    command_line = parse_install(["-r", str(top)])
    assert index_options(RequirementFiles.of(command_line)) == [
        "-i",
        "https://mirror/simple",
        "--find-links",
        str(tmp_path / "links"),
        "-f",
        "elsewhere",
        "--no-index",
    ]
    assert index_options(RequirementFiles.of(command_line), find_links_only=True) == [
        "--find-links",
        str(tmp_path / "links"),
        "-f",
        "elsewhere",
    ]


def test_choice_options_of_the_files_are_read(tmp_path: Path) -> None:
    """Binary choices, --pre and trusted hosts, in either spelling; other lines are not."""
    nested = write(tmp_path / "nested.txt", "--only-binary=:all:\n--pre\n")
    top = write(
        tmp_path / "top.txt",
        f"-r {nested.name}\n--no-binary bitarray\nbitarray==3.1\n--prefer-binary\n"
        "--trusted-host 127.0.0.1\n-i http://127.0.0.1:9/simple\n",
    )
    assert choice_options(RequirementFiles.of(parse_install(["-r", str(top)]))) == [
        "--no-binary", "bitarray", "--prefer-binary", "--trusted-host", "127.0.0.1",
        "--only-binary", ":all:", "--pre",
    ]  # fmt: skip


def test_format_choice_follows_pips_rules(tmp_path: Path) -> None:
    """Command line first, then the files' lines; a name wins over :all:; the last option
    naming a project decides; :none: empties a set."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("--no-binary Lxml,pyyaml\n--only-binary pyyaml\nlxml==6.1\n")
    choice = FormatChoice.of(
        *with_files(parse_install(["--only-binary", ":all:", "-r", str(requirements)]))
    )
    assert not choice.allows_wheels("lxml") and choice.allows_sdists("lxml")
    assert choice.allows_wheels("PyYAML") and not choice.allows_sdists("pyyaml")
    assert choice.allows_wheels("numpy") and not choice.allows_sdists("numpy")  # :all: stays
    everything = FormatChoice.of(
        *with_files(parse_install(["--no-binary", ":all:", "--only-binary", "six"]))
    )
    assert not everything.allows_wheels("numpy") and everything.allows_sdists("numpy")
    assert everything.allows_wheels("six") and not everything.allows_sdists("six")
    cleared = FormatChoice.of(
        *with_files(parse_install(["--no-binary", "numpy", "--no-binary", ":none:"]))
    )
    assert cleared.allows_wheels("numpy")


def test_exact_requirements_are_pins_with_their_extras(tmp_path: Path) -> None:
    """Arguments and file lines, extras split; index, binary and nested-file lines allowed."""
    nested = tmp_path / "more.txt"
    nested.write_text("Six==1.17.0\n")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "-i https://mirror/simple\n--no-binary lxml\n-r more.txt\ncelery[redis, msgpack]==5.4\n"
    )
    command_line = parse_install(["-r", str(requirements), "attrs==24.2.0"])
    assert exact_requirements(*with_files(command_line)) == [
        ("attrs", "24.2.0", []), ("celery", "5.4", ["redis", "msgpack"]), ("Six", "1.17.0", []),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "line",
    [
        "attrs>=24",  # a range
        'attrs==24.2.0 ; python_version >= "3"',  # a marker
        "attrs==24.2.0 --hash=sha256:00",  # an option of its own
        "-c constraints.txt",  # a constraint
        "-e .",  # an editable
        "https://example.invalid/attrs-24.2.0-py3-none-any.whl",  # a URL
        "attrs==24.*",  # a prefix match
    ],
)
def test_anything_but_pins_is_no_set_of_exact_requirements(tmp_path: Path, line: str) -> None:
    """One such line, and pip plans."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"six==1.17.0\n{line}\n")
    (tmp_path / "constraints.txt").write_text("six==1.17.0\n")
    assert exact_requirements(*with_files(parse_install(["-r", str(requirements)]))) is None


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["chain-a", "purepkg[x]>=1; python_version > '3'"], False),
        (["./project"], True),
        (["demo @ https://example.com/demo-1.0.tar.gz"], True),
        (["-e", "./project", "chain-a"], True),
        (["dist/demo-1.0.tar.gz"], True),
    ],
)
def test_source_trees_and_urls_are_told_from_names(arguments: list[str], expected: bool) -> None:
    """A path, a URL or an editable is read by pip; a named requirement is not."""
    assert names_source_trees(parse_install(arguments)) is expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("chain-a>=1\npurepkg[x]; python_version > '3'", True),
        ("-e ./project", False),
        ("--editable=./project", False),
        ("demo @ https://example.com/demo-1.0.tar.gz", False),
        ("dist/demo-1.0.tar.gz", False),
        ("./wheels/demo-1.0-py3-none-any.whl", False),
        ("not a requirement ((", False),
    ],
)
def test_names_projects_only_reads_the_files_too(tmp_path: Path, line: str, expected: bool) -> None:
    """A requirement set that pip resolves by names alone: no path, URL, archive or
    editable on the command line or in a requirements file."""
    requirements = write(tmp_path / "requirements.txt", f"{line}\n")
    command_line, files = with_files(parse_install(["purepkg", "-r", str(requirements)]))
    assert names_projects_only(command_line, files) is expected
    assert not names_projects_only(*with_files(parse_install(["./project", "purepkg"])))


def test_the_files_are_read_once_into_a_value_that_answers_every_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file once (nested ones too), with its sha256, text and logical lines (a
    continuation over a Windows line end joined, as a text read joins it); the questions
    answer from the value without reading a file again, as they answer from the files."""
    nested = write(tmp_path / "sub" / "more.txt", "-i http://127.0.0.1:9/simple\nbeta==2.0\n")
    top = tmp_path / "requirements.txt"
    top.write_bytes(b"alpha==1.0 \\\r\n  --hash=sha256:00\r\n-r sub/more.txt\n")
    limits = write(tmp_path / "constraints.txt", "gamma<3\n")
    command_line = parse_install(["-r", str(top), "-c", str(limits)])
    files = RequirementFiles.of(command_line)
    assert files.paths == [top, nested, limits]
    first = files.files[0]
    assert first.sha256 == hashlib.sha256(top.read_bytes()).hexdigest()
    assert first.lines == tuple(logical_lines(top)) == ("alpha==1.0    --hash=sha256:00",
                                                        "-r sub/more.txt")  # fmt: skip
    assert [file.constraints for file in files.files] == [False, False, True]

    def no_reading(path: Path) -> bytes:
        raise AssertionError(f"{path} was read again")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    assert uses_hashes(command_line, files) and not names_remote_files(command_line, files)
    assert pins(command_line, files) == [("alpha", "1.0"), ("beta", "2.0")]
    assert requirement_texts(command_line, files) == ["alpha==1.0", "", "", "beta==2.0"]
    assert exact_requirements(command_line, files) is None  # a constraints file: not all pins
    assert index_options(files) == ["-i", "http://127.0.0.1:9/simple"] and not choice_options(files)
    assert FormatChoice.of(command_line, files) == FormatChoice()


def test_a_file_named_by_c_is_a_constraints_file_wherever_it_is_named(tmp_path: Path) -> None:
    """pip reads ``-c`` inside a requirements file as a constraint and ``-r`` inside a
    constraints file as requirements: a nested constraint asks for nothing to be installed."""
    write(tmp_path / "limits.txt", "gamma==3.0\n-r more.txt\n")
    write(tmp_path / "more.txt", "beta==2.0\n")
    top = write(tmp_path / "requirements.txt", "alpha==1.0\n-c limits.txt\n")
    command_line, files = with_files(parse_install(["-r", str(top)]))
    assert [file.constraints for file in files.files] == [False, True, False]
    assert pins(command_line, files) == [("alpha", "1.0"), ("beta", "2.0")]
