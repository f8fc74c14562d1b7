"""Unit tests of ``pip_accel.cli.cache_request``: a cache command line, read or refused."""

import pytest

from pip_accel.cli.cache_request import Request, parse
from pip_accel.exceptions import CacheUsageError


def test_command_lines_are_read() -> None:
    """Spans and sizes with their units; -v anywhere."""
    assert parse(["prune", "--older-than", "30d"]) == Request("prune", older_than=30 * 86400)
    assert parse(["-v", "prune", "--max-size", "1MB"]).max_size == 1000**2
    assert parse(["list"]).pattern is None
    assert parse(["remove", "six", "-q"]) == Request("remove", pattern="six", verbosity=-1)


def test_a_bucket_is_pruned_by_less_than_a_day_only_with_yes() -> None:
    """One day is the shortest span without --yes; with it, any span (0 too)."""
    assert parse(["prune", "--s3", "--older-than", "1d"]).older_than == 86400
    assert parse(["prune", "--s3", "--older-than", "0d", "--yes"]) == Request(
        "prune", older_than=0, s3=True, yes=True
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([], "give a command"),
        (["clean"], "unknown command 'clean'"),
        (["remove"], "required: PATTERN"),
        (["remove", "a", "b"], "unrecognized arguments: b"),
        (["prune", "--older-than", "30x"], "'30x' is not a time span"),
        (["prune", "--older-than", "30"], "give a number and a unit"),
        (["prune", "--max-size", "lots"], "'lots' is not a size"),
        (["prune", "--max-size", "2 parsecs"], "'2 parsecs' is not a size"),
        (["prune", "--s3"], "--s3 needs --older-than"),
        (["prune", "--s3", "--older-than", "0d"], "--older-than 0 seconds would remove what"),
        (["prune", "--s3", "--older-than", "23h"], "give one day or more .* or add --yes"),
        (["prune", "--older-than", "1d", "--yes"], "--yes goes with --s3"),
    ],
)
def test_wrong_command_lines_say_what_is_wrong(args: list[str], says: str) -> None:
    """Each mistake is one line naming it."""
    with pytest.raises(CacheUsageError, match=says) as caught:
        parse(args)
    assert "\n" not in str(caught.value)
