"""Unit tests of ``pip_accel.pip``: pip's command line read by pip's parser, pip run, pip's errors.

``error_summary`` is tested on output captured from real pips: the samples are pip's output,
cut short where the rest does not matter, with paths made shorter; the full-disk ones were
captured with pip 23.0 and pip 26.3 writing into a full tmpfs. The tests of :class:`Pip`
run this interpreter's pip with ``--no-index`` (or ``--version``): no index, about a second.
"""

import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from pip_accel.exceptions import PipFailedError
from pip_accel.pip.command_line import (
    CommandLine,
    OptionGroup,
    command_dests,
    parse_install,
    split_command,
)
from pip_accel.pip.commands import (
    build_options,
    download_command,
    install_command,
    pin_options,
    plan_arguments,
    wheel_command,
    whole_install,
    without_dependencies,
)
from pip_accel.pip.output import error_summary, failed_project, redact, unfound_requirements
from pip_accel.pip.runner import Pip, pip_version

PIP23_FULL_DISK = """\
Looking in links: /data/sources
Processing /data/sources/foo-1.0-py3-none-any.whl
ERROR: Exception:
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/pip/_internal/cli/base_command.py", line 160, in exc_logging_wrapper
    status = run_func(*args)
             ^^^^^^^^^^^^^^^
  File "/venv/lib/python3.11/site-packages/pip/_internal/cli/req_command.py", line 247, in wrapper
    return func(self, options, args)
           ^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/venv/lib/python3.11/site-packages/pip/_internal/commands/download.py", line 144, in run
    preparer.save_linked_requirement(req)
  File "/venv/lib/python3.11/site-packages/pip/_internal/operations/prepare.py", line 608, in save_linked_requirement
    shutil.copy(req.local_file_path, download_location)
  File "/usr/lib/python3.11/shutil.py", line 419, in copy
    copyfile(src, dst, follow_symlinks=follow_symlinks)
  File "/usr/lib/python3.11/shutil.py", line 269, in copyfile
    _fastcopy_sendfile(fsrc, fdst)
  File "/usr/lib/python3.11/shutil.py", line 158, in _fastcopy_sendfile
    raise err from None
  File "/usr/lib/python3.11/shutil.py", line 144, in _fastcopy_sendfile
    sent = os.sendfile(outfd, infd, offset, blocksize)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
OSError: [Errno 28] No space left on device: '/data/sources/foo-1.0-py3-none-any.whl' -> '/data/sources/.incoming-x/foo-1.0-py3-none-any.whl'
"""  # noqa: E501 (pip's lines as they are)

PIP26_FULL_DISK = """\
Collecting purepkg==1.0
  Downloading http://127.0.0.1:8080/packages/purepkg-1.0.tar.gz (1.1 kB)
  Preparing metadata (pyproject.toml): finished with status 'done'
ERROR: Exception:
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/pip/_internal/cli/base_command.py", line 110, in _run_wrapper
    status = _inner_run()
             ^^^^^^^^^^^^
  File "/venv/lib/python3.11/site-packages/pip/_internal/commands/download.py", line 144, in run
    preparer.save_linked_requirement(req)
  File "/venv/lib/python3.11/site-packages/pip/_internal/operations/prepare.py", line 824, in save_linked_requirement
    shutil.copy(req.local_file_path, download_location)
  File "/usr/lib/python3.11/shutil.py", line 144, in _fastcopy_sendfile
    sent = os.sendfile(outfd, infd, offset, blocksize)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
OSError: [Errno 28] No space left on device: '/tmp/pip-unpack-1/purepkg-1.0.tar.gz' -> '/data/sources/.incoming-x/purepkg-1.0.tar.gz'
"""  # noqa: E501 (pip's lines as they are)

CHAINED = """\
ERROR: Exception:
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/pip/_internal/utils/misc.py", line 120, in write
    handle.write(data)
OSError: [Errno 122] Disk quota exceeded

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/pip/_internal/cli/base_command.py", line 110, in _run_wrapper
    status = _inner_run()
OSError: [Errno 28] No space left on device: '/data/sources/.incoming-x'
"""  # noqa: E501 (pip's lines as they are)

PIP23_HEADLINE = """\
Collecting psycopg2==2.9.10
  Downloading psycopg2-2.9.10.tar.gz (385 kB)
  Getting requirements to build wheel: started
  Getting requirements to build wheel: finished with status 'error'
  error: subprocess-exited-with-error

  \N{MULTIPLICATION SIGN} Getting requirements to build wheel did not run successfully.
  \N{BOX DRAWINGS LIGHT VERTICAL} exit code: 1
  \N{BOX DRAWINGS LIGHT ARC UP AND RIGHT}\N{BOX DRAWINGS LIGHT HORIZONTAL}> [2 lines of output]
      Error: pg_config executable not found.
      [end of output]

  note: This error originates from a subprocess, and is likely not a problem with pip.
error: subprocess-exited-with-error

\N{MULTIPLICATION SIGN} Getting requirements to build wheel did not run successfully.
\N{BOX DRAWINGS LIGHT VERTICAL} exit code: 1
\N{BOX DRAWINGS LIGHT ARC UP AND RIGHT}\N{BOX DRAWINGS LIGHT HORIZONTAL}> See above for output.

note: This error originates from a subprocess, and is likely not a problem with pip.
"""

NOT_FOUND = """\
Looking in indexes: http://127.0.0.1:8080/simple/
ERROR: Could not find a version that satisfies the requirement purepkg==9.9 (from versions: 1.0)
ERROR: No matching distribution found for purepkg==9.9
"""


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (
            PIP23_FULL_DISK,
            "OSError: [Errno 28] No space left on device:"
            " '/data/sources/foo-1.0-py3-none-any.whl'"
            " -> '/data/sources/.incoming-x/foo-1.0-py3-none-any.whl'",
        ),
        (
            PIP26_FULL_DISK,
            "OSError: [Errno 28] No space left on device:"
            " '/tmp/pip-unpack-1/purepkg-1.0.tar.gz'"
            " -> '/data/sources/.incoming-x/purepkg-1.0.tar.gz'",
        ),
    ],
    ids=["pip23", "pip26"],
)
def test_unexpected_exception_is_its_last_line(output: str, expected: str) -> None:
    """pip's report of an exception it did not expect is summed up by the exception itself."""
    assert error_summary(output) == expected


def test_chained_exception_is_the_last_one() -> None:
    """Of chained tracebacks, the last one tells the exception that ended pip."""
    expected = "OSError: [Errno 28] No space left on device: '/data/sources/.incoming-x'"
    assert error_summary(CHAINED) == expected


def test_exception_report_without_traceback_stays() -> None:
    """Without a traceback after it, pip's "Exception:" is all there is to say."""
    assert error_summary("ERROR: Exception:\n") == "Exception:"


def test_error_lines_are_joined() -> None:
    """Every ``ERROR:`` line is kept, in order, without its prefix."""
    assert error_summary(NOT_FOUND) == (
        "Could not find a version that satisfies the requirement purepkg==9.9 (from versions: 1.0)"
        " No matching distribution found for purepkg==9.9"
    )


HASH_MISMATCH = """\
Collecting purepkg==1.0 (from -r req.txt (line 1))
  Downloading http://127.0.0.1:8765/packages/purepkg-1.0.tar.gz (433 bytes)
ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE. If you have updated\
 the package versions, please update the hashes. Otherwise, examine the package contents\
 carefully; someone may have tampered with them.
    purepkg==1.0 from http://127.0.0.1:8765/packages/purepkg-1.0.tar.gz (from -r req.txt (line 1)):
        Expected sha256 0000000000000000000000000000000000000000000000000000000000000000
             Got        ca9b89f69ed50cad64c1aca86a6b17497b9e70b518960d1dcacdad379fb0f04b

"""


def test_details_below_an_error_stay_with_it() -> None:
    """A hash mismatch keeps pip's lines naming the archive and both hashes, as pip wrote them."""
    lines = error_summary(HASH_MISMATCH).splitlines()
    assert lines[0].startswith("THESE PACKAGES DO NOT MATCH THE HASHES")
    assert lines[1:] == HASH_MISMATCH.splitlines()[3:6]


def test_unfound_requirements_are_those_pip_names() -> None:
    """pip's "No matching distribution found for" names the requirement, once; none otherwise."""
    assert unfound_requirements(NOT_FOUND + NOT_FOUND) == ["purepkg==9.9"]
    assert unfound_requirements(HASH_MISMATCH) == []


def test_headline_names_the_requirement_being_collected() -> None:
    """Without ``ERROR:`` lines (pip 23.0), the last headline and the requirement are used."""
    assert error_summary(PIP23_HEADLINE) == (
        "Getting requirements to build wheel did not run successfully."
        " (while collecting psycopg2==2.9.10)"
    )


def test_last_line_without_errors_or_headlines() -> None:
    """Output without error lines or headlines is summed up by its last line."""
    assert error_summary("Collecting purepkg\nKilled\n\n") == "Killed"
    assert error_summary("") == "pip failed without saying why"


def test_option_groups_keep_each_options_tokens_together(tmp_path: Path) -> None:
    """Long options (abbreviated or with ``=``), short clusters and ``--`` become groups."""
    line = parse_install(["-Uqr", "req.txt", "--index-u=https://m/simple", "demo", "--", "-x"])
    assert line.groups == [
        OptionGroup(("-U",), "upgrade"),
        OptionGroup(("-q",), "quiet"),
        OptionGroup(("-r", "req.txt"), "requirements"),
        OptionGroup(("--index-url", "https://m/simple"), "index_url"),
        OptionGroup(("demo",)),
        OptionGroup(("-x",)),
    ]
    assert line.arguments == ["demo", "-x"]
    assert line.given("upgrade") and not line.given("no_deps")


def test_short_option_value_in_the_same_word() -> None:
    """``-rreq.txt`` is ``-r req.txt``; ``--index-url URL`` takes the next word."""
    line = parse_install(["-rreq.txt", "--index-url", "https://m/simple"])
    assert line.tokens({"requirements", "index_url"}) == [
        "-r",
        "req.txt",
        "--index-url",
        "https://m/simple",
    ]
    assert line.tokens({"requirements", "index_url"}, excluded={"index_url"}) == ["-r", "req.txt"]


def test_tokens_for_a_command_are_those_it_accepts() -> None:
    """``pip download`` gets the index options but not ``--upgrade`` nor general ``-v``."""
    line = parse_install(["-U", "-v", "--no-deps", "-i", "https://m/simple", "demo"])
    assert line.tokens_for("download") == ["--no-deps", "-i", "https://m/simple"]


def test_split_command_reads_general_options_first() -> None:
    """pip's general options come back parsed; the command and its options stay."""
    general, rest = split_command(["--isolated", "-v", "install", "-U", "demo"])
    assert general.isolated_mode and general.verbose == 1
    assert rest == ["install", "-U", "demo"]


def test_bad_option_exits_like_pip() -> None:
    """An option pip does not know ends pip-accel the way it ends pip: status 2."""
    with pytest.raises(SystemExit) as raised:
        parse_install(["--no-such-option"])
    assert raised.value.code == 2


def test_command_names_the_target_and_general_options(tmp_path: Path) -> None:
    """pip runs with pip-accel's interpreter, the general options, then ``--python``."""
    pip = Pip(tmp_path / "bin" / "python", ["-q"])
    assert pip.command(["list"]) == [
        sys.executable,
        "-m",
        "pip",
        "-q",
        "--python",
        str(tmp_path / "bin" / "python"),
        "list",
    ]
    assert Pip(None).command(["list"]) == [sys.executable, "-m", "pip", "list"]


@pytest.mark.parametrize("spinner", [None, "Resolving"])
def test_run_returns_pips_output(spinner: str | None) -> None:
    """A successful run returns what pip wrote, with or without the spinner."""
    output = Pip(None).run(["--version"], spinner=spinner)
    assert output.startswith(f"pip {pip_version()} from ")


def test_failed_run_raises_pips_error() -> None:
    """pip's failure becomes a PipFailedError with pip's own error line and exit code."""
    args = ["install", "--dry-run", "--no-index", "no-such-project-here"]
    with pytest.raises(PipFailedError) as raised:
        Pip(None).run(args)
    assert "No matching distribution found for no-such-project-here" in str(raised.value)
    assert raised.value.returncode == 1
    assert "ERROR:" in raised.value.output


FAILING_PIP = """\
import sys
print("Looking in links: /nowhere")
print("ERROR: No matching distribution found for no-such-project-here", file=sys.stderr)
sys.exit(3)
"""
"""A stand-in of pip that fails as pip does: its error line on stderr, a non-zero exit."""


class FailingPip(Pip):
    """A :class:`Pip` that runs :data:`FAILING_PIP` instead of pip (a fraction of the time)."""

    def command(self, args: Sequence[str]) -> list[str]:
        """The stand-in's command, whatever the arguments."""
        return [sys.executable, "-c", FAILING_PIP]


@pytest.mark.parametrize("spinner", [None, "Resolving"])
def test_a_failed_run_with_or_without_spinner_raises_the_error_line(spinner: str | None) -> None:
    """Either way of running (the output read line by line, or into a file behind the
    spinner), a failure raises the error line of stdout and stderr, and the exit code."""
    with pytest.raises(PipFailedError) as raised:
        FailingPip(None).run(["install", "no-such-project-here"], spinner=spinner)
    assert "No matching distribution found for no-such-project-here" in str(raised.value)
    assert raised.value.returncode == 3
    assert "Looking in links: /nowhere" in raised.value.output


def test_streamed_run_shows_and_returns_the_output(capsys: pytest.CaptureFixture[str]) -> None:
    """With ``stream`` pip's lines are shown as they come and still returned."""
    output = Pip(None, stream=True).run(["--version"])
    assert capsys.readouterr().out == output


@pytest.mark.parametrize(
    ("output", "project"),
    [
        (
            "ERROR: Failed to build 'psycopg2' when getting requirements to build wheel\n",
            "psycopg2",
        ),
        ("Collecting lz4ext\n  error: subprocess-exited-with-error\n", "lz4ext"),
        ("Processing ./dist/lz4ext-1.0.tar.gz\n  error: subprocess-exited-with-error\n", "lz4ext"),
        ("Collecting demo[extra]>=1\n  error: subprocess-exited-with-error\n", "demo"),
        ("nothing to go by\n", None),
    ],
)
def test_failed_project_is_read_from_pips_output(output: str, project: str | None) -> None:
    """pip 25's named failure, else the last requirement or archive pip was preparing."""
    assert failed_project(output) == project


def test_empty_command_line_has_no_tokens() -> None:
    """A command line without groups gives no tokens and no arguments."""
    line = CommandLine("install", [])
    assert line.tokens({"index_url"}) == [] and line.arguments == []


def test_each_pip_command_gets_the_options_that_apply_to_it(tmp_path: Path) -> None:
    """One command line, routed: the plan, a build, pins, a hand-over and the whole install."""
    requirements = tmp_path / "r.txt"
    requirements.write_text("demo\n")
    command_line = parse_install([
        "-r", str(requirements), "-i", "http://127.0.0.1:9/simple", "--pre",
        "--config-settings", "k=v", "--no-build-isolation", "--only-binary", ":all:",
        "--user", "--python", "/venv/bin/python", "--require-hashes", "demo==1.0",
    ])  # fmt: skip
    plan = plan_arguments(command_line, "/view/index.html")
    assert plan[:3] == ["--no-index", "--find-links", "/view/index.html"]
    assert plan[-1] == "demo==1.0" and "-r" in plan and "--pre" in plan
    assert "-i" not in plan and "--python" not in plan
    assert build_options(command_line) == ["--config-settings", "k=v", "--no-build-isolation"]
    pins = pin_options(command_line)
    assert pins[:2] == ["-i", "http://127.0.0.1:9/simple"] and "--only-binary" in pins
    assert (
        "-r" not in pins and "--python" not in pins and "--config-settings" not in pins
    )  # not download's
    hand_over = install_command(command_line, ["extra"])
    assert hand_over[:2] == ["install", "--no-deps"] and hand_over[-1] == "extra"
    assert "--user" in hand_over and "-r" not in hand_over and "demo==1.0" not in hand_over
    whole = whole_install(command_line)
    assert "--python" not in whole and whole[0] == "install" and "demo==1.0" in whole


@pytest.mark.skipif(
    not {"requirements_from_scripts", "only_dependencies", "build_constraints"}
    <= command_dests("install"),
    reason="this pip has no --requirements-from-script, --only-deps or --build-constraint",
)
def test_pip_26_requirement_sources_go_where_they_apply(tmp_path: Path) -> None:
    """A script names requirements: the plan gets it, a build, pins and a hand-over do not.
    ``--only-deps`` shapes the plan only (with ``--no-deps`` pip refuses it); build
    constraints go to every build, pip's own included."""
    command_line = parse_install([
        "--requirements-from-script", "s.py", "--only-deps", "--build-constraint", "b.txt",
        "demo",
    ])  # fmt: skip
    plan = plan_arguments(command_line, "/view/index.html")
    assert {"--requirements-from-script", "--only-deps", "--build-constraint"} <= set(plan)
    for tokens in (build_options(command_line), pin_options(command_line),
                   install_command(command_line, ["extra"])):  # fmt: skip
        assert "--requirements-from-script" not in tokens and "--only-deps" not in tokens
    assert build_options(command_line) == ["--build-constraint", "b.txt"]
    assert "--build-constraint" in install_command(command_line, ["extra"])


@pytest.mark.skipif("dependency_groups" not in command_dests("install"), reason="pip < 25.1")
def test_groups_of_one_command_line_stay_its_own() -> None:
    """pip's ``--group`` appends to a default list shared by its parsers: each parse is apart."""
    first = parse_install(["--group", "one"]).options.dependency_groups
    second = parse_install(["--group", "two"]).options.dependency_groups
    assert (first, second) == ([("pyproject.toml", "one")], [("pyproject.toml", "two")])


def test_the_fixed_parts_of_pip_commands(tmp_path: Path) -> None:
    """A build is offline with its back-ends from the local index; a download keeps what it has."""
    wheel = wheel_command(tmp_path / "a.tar.gz", tmp_path / "out", tmp_path / "src", ["-C", "k"])
    assert wheel == [
        "wheel", "--no-deps", "--no-index", "--find-links", str(tmp_path / "src"),
        "--wheel-dir", str(tmp_path / "out"), "-C", "k", str(tmp_path / "a.tar.gz"),
    ]  # fmt: skip
    download = download_command(tmp_path / "in", tmp_path / "src", ["x"])
    assert download[:3] == ["download", "--dest", str(tmp_path / "in")]
    assert download[-3:] == ["--find-links", str(tmp_path / "src"), "x"]
    assert without_dependencies(["-weird"]) == ["--no-deps", "--", "-weird"]


def test_error_summary_adds_why_pip_could_read_no_index_page() -> None:
    """A 401 or a certificate pip does not trust explains "No matching distribution"."""
    output = (
        "WARNING: 401 Error, Credentials not correct for http://127.0.0.1:9/simple/demo/\n"
        "ERROR: Could not find a version that satisfies the requirement demo"
        " (from versions: none)\n"
        "ERROR: No matching distribution found for demo\n"
    )
    summary = error_summary(output)
    assert summary.endswith("(pip said: 401 Error, Credentials not correct for"
                            " http://127.0.0.1:9/simple/demo/)")  # fmt: skip
    tls = "Could not fetch URL https://h/simple/demo/: certificate verify failed - skipping\n"
    assert "certificate verify failed)" in error_summary(tls + output.split("\n", 1)[1])
    assert "pip said" not in error_summary("ERROR: Invalid requirement: 'x y'\n" + tls)


def test_a_chained_exception_without_its_traceback_is_named() -> None:
    """pip 26 reports urllib3's RetryError as a chain whose first part has no header."""
    output = (
        "ERROR: Exception:\n"
        "urllib3.exceptions.ResponseError: too many 503 error responses\n\n"
        "The above exception was the direct cause of the following exception:\n\n"
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n'
        "RetryError: HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded\n"
    )
    assert error_summary(output).startswith("RetryError: HTTPConnectionPool")


def test_redact_hides_the_password_of_every_url() -> None:
    """As pip shows URLs: the user stays, the password becomes ****."""
    text = "-i http://alice:open-sesame@127.0.0.1:9/simple --proxy http://u:p@proxy:3128 x@y"
    assert (
        redact(text)
        == "-i http://alice:****@127.0.0.1:9/simple --proxy http://u:****@proxy:3128 x@y"
    )
