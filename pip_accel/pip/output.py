"""Reading pip's output: its error in a line, what it found nothing for, what failed to build.

pip's words change between versions (pip 23.0 to 26); each pattern here says
which pip writes it.
"""

import itertools
import re
from collections.abc import Iterator

HEADLINE = "\N{MULTIPLICATION SIGN}"
"""The mark in front of the headline of an error in pip's output."""

BUILD_FAILED = "subprocess-exited-with-error"
"""What pip says when a build step (metadata or wheel) of a distribution fails."""

FAILED_PROJECT = re.compile(r"^ERROR: Failed to build '?(?P<name>[\w.-]+)'? when", re.MULTILINE)
"""pip 25 and newer: "ERROR: Failed to build 'psycopg2' when getting requirements to build"."""

PREPARED = re.compile(r"^(?:Collecting|Processing) (?P<what>\S+)", re.MULTILINE)
"""The line with which pip starts to prepare a distribution: a requirement or an archive."""

UNEXPECTED = "Exception:"
"""pip's error message in front of the traceback of an exception it did not expect."""

TRACEBACK = "Traceback (most recent call last):"
"""The first line of a Python traceback."""

CHAINED = ("The above exception was the direct cause", "During handling of the above exception")
"""How Python joins the tracebacks of chained exceptions."""

FETCH_TROUBLE = re.compile(
    r"^(?:WARNING:\s*)?(Could not fetch URL .*?)(?: - skipping)?$|^WARNING:\s*(\d{3} Error, .*)$"
)
"""pip's words when it could not read an index page: they say why it then finds nothing."""

NOT_FOUND = ("Could not find a version", "No matching distribution found")
"""pip's errors when no index offered a distribution (or none could be read)."""

UNFOUND = re.compile(r"^ERROR: No matching distribution found for (?P<requirement>.+?)\s*$", re.M)
"""pip's error line that names a requirement no index had a distribution for."""

PASSWORD = re.compile(r"(://[^/:@\s]+):[^/@\s]+@")
"""The password of a URL's credentials."""


def redact(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``****``, as pip shows URLs."""
    return PASSWORD.sub(r"\1:****@", text)


def error_summary(output: str) -> str:
    """pip's own error text: its ``ERROR:`` lines, else its last headline.

    pip 23.0 reports a failed build step only with a headline (marked with a
    multiplication sign) such as "Getting requirements to build wheel did not
    run successfully.", so the requirement pip was collecting then is added.
    pip reports an exception it did not expect (a full disk, say) as
    ``ERROR: Exception:`` and a traceback; the traceback's last line, which
    says what went wrong, stands for that report.
    """
    raw = output.splitlines()
    errors = [_error_text(message, raw[index + 1 :]) for index, message in _error_lines(raw)]
    if errors:
        return " ".join(errors) + _fetch_trouble(raw, errors)
    lines = [line.strip() for line in raw if line.strip()]
    headlines = [line.lstrip(HEADLINE + " ") for line in lines if line.startswith(HEADLINE)]
    collecting = [line.split(None, 1)[1] for line in lines if line.startswith("Collecting ")]
    if headlines:
        context = f" (while collecting {collecting[-1]})" if collecting else ""
        return headlines[-1] + context
    return lines[-1] if lines else "pip failed without saying why"


def unfound_requirements(output: str) -> list[str]:
    """The requirements that pip found no distribution for, as pip wrote them, in its order.

    pip's resolver stops at the first such requirement, so there is one at
    most with today's pips; none when pip failed otherwise (a conflict, say).
    """
    return list(dict.fromkeys(match["requirement"] for match in UNFOUND.finditer(output)))


def _fetch_trouble(lines: list[str], errors: list[str]) -> str:
    """Why pip found no distribution, when it could not read an index (refused, TLS), or ""."""
    if not any(error.startswith(NOT_FOUND) for error in errors):
        return ""
    found = [FETCH_TROUBLE.match(line.strip()) for line in lines]
    reasons = [match[1] or match[2] for match in found if match]
    return f" (pip said: {redact(reasons[-1])})" if reasons else ""


def _error_lines(lines: list[str]) -> Iterator[tuple[int, str]]:
    """The position and message (without ``ERROR:``) of each of pip's error lines."""
    for position, line in enumerate(lines):
        text = line.strip()
        if text.startswith("ERROR:"):
            yield position, re.sub(r"^ERROR:\s*", "", text)


def _error_text(message: str, following: list[str]) -> str:
    """One of pip's error messages; for an unexpected exception, the exception itself.

    The indented lines right below the message are its details, kept as pip
    wrote them: for a hash mismatch, each archive with the hash expected and
    the hash it had.
    """
    if message == UNEXPECTED:
        return _final_exception(following) or message
    details = itertools.takewhile(lambda line: line[:1].isspace() and line.strip(), following)
    return "\n".join([message, *(line.rstrip() for line in details)])


def _final_exception(lines: list[str]) -> str | None:
    """The exception line of the traceback at the start of ``lines``, or None without one.

    A traceback's frames are indented and its exception line is not. With
    chained exceptions ("During handling of the above exception ...") the
    last traceback tells the exception that ended pip.
    """
    text = [line for line in lines if line.strip()]
    if text and text[0].strip() != TRACEBACK:  # a chained exception without its traceback
        return _last_exception_line(text)
    final = None
    position = 0
    while position < len(text) and text[position].strip() == TRACEBACK:
        position += 1
        while position < len(text) and text[position][:1].isspace():
            position += 1
        if position == len(text):
            break
        final = text[position].strip()
        position += 1
        if position < len(text) and text[position].startswith(CHAINED):
            position += 1
    return final


def _last_exception_line(lines: list[str]) -> str | None:
    """The last line that is neither indented nor a traceback's header or joint, or None."""
    candidates = [
        line.strip()
        for line in lines
        if not line[:1].isspace() and line.strip() != TRACEBACK and not line.startswith(CHAINED)
    ]
    return candidates[-1] if candidates else None


def failed_project(output: str) -> str | None:
    """The project whose build step failed, according to pip's output, or None if unknown.

    pip 25 and newer name it in their last error; older pips are read from the
    last "Collecting" (a requirement) or "Processing" (an archive) line before
    the first failed step.
    """
    named = FAILED_PROJECT.search(output)
    if named:
        return named.group("name")
    position = output.find(BUILD_FAILED)
    preparing = list(PREPARED.finditer(output, 0, position if position >= 0 else len(output)))
    if not preparing:
        return None
    what = preparing[-1].group("what")
    if "/" in what or what.endswith((".tar.gz", ".zip")):
        return re.sub(r"\.(tar\.gz|zip|tar\.bz2)$", "", what.rsplit("/", 1)[-1]).rsplit("-", 1)[0]
    return re.split(r"[^\w.-]", what, maxsplit=1)[0]


MISSING_REQUIREMENT = re.compile(r"No matching distribution found for (\S+)")
"""How pip names a requirement it found no distribution of."""

BUILD_REQUIREMENT_STEPS = ("build dependencies", "backend dependencies")
"""How pip (23 to 26) names the steps of a build that install its requirements."""


def missing_build_requirements(output: str) -> list[str]:
    """The build requirements that an offline build did not find in the local index.

    Those of ``pyproject.toml`` are downloaded with the sdist; a back-end can
    ask for more when it runs (``get_requires_for_build_wheel``: Cython for an
    in-tree back-end, cmake and ninja for scikit-build-core), and only a build
    tells which.
    """
    if not any(step in output for step in BUILD_REQUIREMENT_STEPS):
        return []
    return sorted(set(MISSING_REQUIREMENT.findall(output)))


NETWORK_TROUBLE = (
    "connection", "timed out", "timeout", "temporary failure", "name resolution",
    "max retries exceeded", "remote end closed", "http error", "ssl", "503", "502", "500",
)  # fmt: skip
"""Words in pip's output that tell a network failure, worth another try."""


def is_network_trouble(output: str) -> bool:
    """Whether pip's output tells of a network failure rather than a real answer."""
    text = output.lower()
    return any(word in text for word in NETWORK_TROUBLE)


INCOMPLETE = (
    "No matching distribution",
    "Could not find a version",
    "ResolutionImpossible",
    "conflicting dependencies",
)
"""What pip says when the local index lacks distributions (and downloading may help)."""


MISSING_PROJECT = re.compile(r"(?:No matching distribution found for|requirement) ([\w.-]+)")
"""How pip names a project it finds no distribution of."""


def shortfall(output: str) -> str:
    """What the local index lacks, as pip's output from it alone tells: a sentence without a stop.

    The local index not having everything yet is the normal case of a first
    run with new requirements, so the sentence says so plainly.
    """
    missing = unfound_requirements(output)
    if missing:
        return f"The local index has nothing that satisfies {', '.join(missing)} yet"
    return "The versions in the local index do not satisfy the requirements together"
