"""The options of pip-accel: how each is declared, how its settings are read and typed.

A setting is text (from a configuration file or an environment variable); each option
has a parser that reads it (a number, a size, a duration, names, a log level) and
raises :class:`ValueError` for an invalid one, and a function that gives the parsed
value (or the default) the type of the option's attribute of
:class:`~pip_accel.config.Config`.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar, overload

from humanfriendly import (
    InvalidSize,
    InvalidTimespan,
    disk_size_units,
    parse_size,
    parse_timespan,
)
from humanfriendly.text import tokenize

T = TypeVar("T")


class Settings(Protocol):
    """Where an option's attribute reads its value: the configuration."""

    def get(self, name: str) -> Any:
        """The parsed value of the option ``name`` (its default when it is not set)."""


LINK_MODES = ("hardlink", "copy")
"""The ways of placing an installed file, as the option ``link-mode`` names them
(see :mod:`pip_accel.install.links`)."""


def parse_integer(text: str) -> int:
    """Parse a whole number that is zero or more."""
    number = int(text)
    if number < 0:
        raise ValueError("negative")
    return number


def parse_positive(text: str) -> int:
    """Parse a whole number that is one or more."""
    number = int(text)
    if number < 1:
        raise ValueError("not positive")
    return number


def parse_seconds(text: str) -> float:
    """Parse a positive number of seconds."""
    number = float(text)
    if number <= 0:
        raise ValueError("not positive")
    return number


def _size_units() -> frozenset[str]:
    """The units of a size, in lower case: bytes, each unit's symbol and name, its prefix alone."""
    units = {"", "b", "byte", "bytes"}
    for unit in disk_size_units:
        for named in (unit.decimal, unit.binary):
            units |= {named.symbol.lower(), named.name.lower(), named.name.lower() + "s"}
        units.add(unit.decimal.symbol[0].lower())  # "500M", as humanfriendly reads it
    return frozenset(units)


SIZE_UNITS = _size_units()
"""Every unit a size may have (humanfriendly would read "2 parsecs" as 2 PB, by its "p")."""


def parse_size_strictly(text: str) -> int:
    """Parse a size such as ``20GB`` or ``500 MiB`` into bytes (more than zero).

    Raises :class:`ValueError` for anything else, a unit that is no unit included.
    """
    tokens = tokenize(text)
    number = bool(tokens) and isinstance(tokens[0], int | float)
    unit = tokens[1] if len(tokens) == 2 and isinstance(tokens[1], str) else ""
    if not number or len(tokens) != (2 if unit else 1):
        raise ValueError("not a number and a unit")
    if unit.lower() not in SIZE_UNITS:
        raise ValueError(f"unknown unit {unit!r}")
    try:
        size = int(parse_size(text))
    except InvalidSize as error:  # not a ValueError: Config.get would not catch it
        raise ValueError(str(error)) from error
    if size < 1:
        raise ValueError("not positive")
    return size


def parse_duration(text: str) -> float:
    """Parse a duration such as ``10m``, ``90s``, ``1h`` or ``0`` into seconds (0 or more)."""
    try:
        return float(parse_timespan(text))
    except InvalidTimespan as error:  # not a ValueError: Config.get would not catch it
        raise ValueError(str(error)) from error


def parse_names(text: str) -> tuple[str, ...]:
    """Parse a list of names separated by commas or white space."""
    return tuple(name for name in text.replace(",", " ").split() if name)


def parse_level(text: str) -> str:
    """Parse a log level name such as ``INFO`` or ``debug``."""
    name = text.strip().upper()
    if not isinstance(logging.getLevelName(name), int):
        raise ValueError("unknown level")
    return name


def parse_link_mode(text: str) -> str:
    """Parse a link mode: ``hardlink`` or ``copy``."""
    mode = text.strip().lower()
    if mode not in LINK_MODES:
        raise ValueError("unknown link mode")
    return mode


BOOLEAN = "a boolean (true/false, yes/no, 1/0)"
"""What a valid setting of a boolean option is."""


def as_names(value: Any) -> tuple[str, ...]:
    """A list option's value, as a tuple of names."""
    return tuple(value)


def optional_text(value: Any) -> str | None:
    """A text option's value, None when it is empty or unset."""
    return str(value) if value else None


def optional_path(value: Any) -> Path | None:
    """A path option's value, None when it is empty or unset."""
    return Path(value) if value else None


def optional_size(value: Any) -> int | None:
    """A size option's value in bytes, None when it is unset."""
    return int(value) if value else None


def optional_boolean(value: Any) -> bool | None:
    """A boolean option's value, None when it is unset (meaning: ask)."""
    return None if value is None else bool(value)


def as_prefix(value: Any) -> str:
    """A key prefix, without outer slashes."""
    return str(value).strip("/")


@dataclass(frozen=True)
class Option(Generic[T]):
    """One option of pip-accel, declared once, as an attribute of
    :class:`~pip_accel.config.Config`.

    The attribute reads the option's value: the parsed setting (or the value set in
    code, or the default) passed through ``value``, which gives it its type.
    """

    name: str
    parse: Callable[[str], Any]
    """How a setting (text from a file or the environment) is read."""
    expected: str
    """What a valid setting is, in the words of the error about an invalid one."""
    default: Any
    value: Callable[[Any], T]
    """The attribute's value, from the parsed setting or the default."""

    @overload
    def __get__(self, config: None, owner: type) -> "Option[T]": ...

    @overload
    def __get__(self, config: "Settings", owner: type) -> T: ...

    def __get__(self, config: "Settings | None", owner: type) -> "Option[T] | T":
        """The option itself on the class, its value on a configuration."""
        return self if config is None else self.value(config.get(self.name))
