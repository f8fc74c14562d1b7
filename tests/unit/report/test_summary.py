"""The last line of an install says what was done, in words that agree with the numbers.

Fast unit tests of :meth:`pip_accel.report.summary.Summary.describe`.
"""

import re

import pytest

from pip_accel.report.summary import Summary

CASES: dict[str, tuple[Summary, float, str]] = {
    "all from cache, one": (
        Summary(installed=1),
        1,
        "Installed 1 package (0 built, 1 from cache) in 1 second.",
    ),
    "built and from cache": (
        Summary(installed=3, built=1),
        1.2,
        "Installed 3 packages (1 built, 2 from cache) in 1.2 seconds.",
    ),
    "downloaded": (
        Summary(installed=4, built=1, downloaded=2),
        0.5,
        "Installed 4 packages (1 built, 2 downloaded, 1 from cache) in 0.5 seconds.",
    ),
    "by pip": (
        Summary(installed=3, by_pip=2),
        2,
        "Installed 3 packages (0 built, 1 from cache, 2 by pip) in 2 seconds.",
    ),
    "one object stored": (
        Summary(installed=2, built=2, uploaded=1),
        3,
        "Installed 2 packages (2 built, 0 from cache; 1 object stored in the shared cache)"
        " in 3 seconds.",
    ),
    "everything": (
        Summary(installed=5, built=1, downloaded=1, by_pip=1, uploaded=4),
        1.5,
        "Installed 5 packages (1 built, 1 downloaded, 2 from cache, 1 by pip;"
        " 4 objects stored in the shared cache) in 1.5 seconds.",
    ),
    "nothing": (Summary(), 0.25, "Installed 0 packages (0 built, 0 from cache) in 0.25 seconds."),
}
"""What was done, how long it took, and the sentence that says so."""


@pytest.mark.parametrize(("summary", "seconds", "sentence"), CASES.values(), ids=CASES.keys())
def test_describe_says_what_was_done(summary: Summary, seconds: float, sentence: str) -> None:
    """Counts that are zero are left out (but for built and from cache); singular for one."""
    assert summary.describe(seconds) == sentence


def test_no_count_is_negative_when_pip_installs_the_wheels() -> None:
    """Two wheels (one built, one downloaded) that pip copied into --target.

    The accelerator counts wheels it hands to pip as its own (pip only copies them), so
    the summary holds no "by pip" for them.
    """
    summary = Summary(installed=2, built=1, downloaded=1)
    sentence = summary.describe(1)
    assert not re.search(r"-\d", sentence), sentence
    assert "(1 built, 1 downloaded, 0 from cache)" in sentence
