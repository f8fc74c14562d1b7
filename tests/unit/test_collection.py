"""Unit tests of the collection rules in ``tests/conftest.py``: which tests are end-to-end,
where they must sit, and that each end-to-end test says which pips it runs with."""

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import MISPLACED, UNCLASSIFIED, pytest_collection_modifyitems
from support import TESTS


@dataclass
class Item:
    """What the hook reads of a collected test: its fixtures, marks, path and id."""

    nodeid: str
    path: Path
    fixturenames: tuple[str, ...] = ()
    marks: list[str] = field(default_factory=list)

    def get_closest_marker(self, name: str) -> object | None:
        """The mark ``name`` if the test has it (as pytest's, None otherwise)."""
        return name if name in self.marks else None

    def add_marker(self, mark: pytest.MarkDecorator) -> None:
        """Add a mark, as the hook adds ``e2e``."""
        self.marks.append(mark.name)


def e2e_test(name: str, *marks: str) -> Item:
    """An end-to-end test (it uses a venv) in tests/e2e with ``marks``."""
    return Item(name, TESTS / "e2e" / "test_x.py", ("make_venv",), list(marks))


def collect(*items: Item) -> None:
    """Run the hook on ``items`` (type-erased: it reads only what :class:`Item` has)."""
    pytest_collection_modifyitems(list(items))  # type: ignore[arg-type]


@pytest.mark.parametrize("mark", ["every_pip", "once", "backends", "system", "network"])
def test_a_classified_end_to_end_test_is_collected_and_marked(mark: str) -> None:
    """A test that uses a venv and says which pips it runs with passes, marked ``e2e``."""
    item = e2e_test("tests/e2e/test_x.py::test_a", mark)
    collect(item)
    assert "e2e" in item.marks


def test_an_unclassified_end_to_end_test_stops_the_collection_naming_it() -> None:
    """Neither every_pip nor once (nor backends, system, network): the collection stops with
    the rule and the test's id, so that a new test is classified when it is written."""
    classified = e2e_test("tests/e2e/test_x.py::test_a", "once")
    new = e2e_test("tests/e2e/test_x.py::test_new")
    with pytest.raises(pytest.UsageError) as raised:
        collect(classified, new)
    assert str(raised.value) == f"{UNCLASSIFIED}: tests/e2e/test_x.py::test_new"


def test_a_unit_test_needs_no_classification_and_an_e2e_test_in_unit_is_misplaced() -> None:
    """Unit tests run with every pip and carry no such mark; a test that uses a venv in
    tests/unit stops the collection as misplaced."""
    unit = Item("tests/unit/test_y.py::test_b", TESTS / "unit" / "test_y.py")
    collect(unit)
    assert unit.marks == []
    misplaced = Item("tests/unit/test_y.py::test_c", TESTS / "unit" / "test_y.py", ("s3",))
    with pytest.raises(pytest.UsageError) as raised:
        collect(misplaced)
    assert str(raised.value) == f"{MISPLACED}: tests/unit/test_y.py::test_c"
