"""Unit tests of :mod:`pip_accel.filenames`: a distribution's project and version from its name."""

import pytest

from pip_accel.filenames import name_and_version


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("Foo_Bar-1.0-py3-none-any.whl", ("foo-bar", "1.0")),
        ("foo.bar-2.0.post1.tar.gz", ("foo-bar", "2.0.post1")),
        ("zope.interface-6.0.zip", ("zope-interface", "6.0")),
        ("notadistribution.txt", None),
        ("broken-wheel.whl", None),
    ],
)
def test_name_and_version(filename: str, expected: tuple[str, str] | None) -> None:
    """Wheels and sdists give their canonical name and version; other names give None."""
    assert name_and_version(filename) == expected
