"""Unit tests of :mod:`pip_accel.config_options`: an option declared once, read with its type."""

from pathlib import Path

import pytest

from pip_accel.config import OPTIONS, Config
from pip_accel.config_options import Option, optional_path, parse_positive


def test_every_option_is_an_attribute_of_the_configuration() -> None:
    """The table of options is made of Config's attributes, in the documented order."""
    assert list(OPTIONS)[:3] == ["data-directory", "link-mode", "max-retries"]
    assert all(isinstance(getattr(Config, name), Option) for name in vars(Config)
               if isinstance(vars(Config)[name], Option))  # fmt: skip
    assert Config.link_mode is OPTIONS["link-mode"]


def test_an_option_reads_its_typed_value(tmp_path: Path) -> None:
    """A setting is parsed, then given the attribute's type; unset gives the default."""
    config = Config({"s3-prefix": "/a/b/", "s3-signing-key": str(tmp_path / "key")}, environ={})
    assert config.s3_prefix == "a/b"
    assert config.s3_signing_key == tmp_path / "key"
    assert config.s3_bucket is None and config.max_cache_size is None
    assert Config({"download-concurrency": "3"}, environ={}).download_concurrency == 3


def test_a_parser_refuses_what_is_not_valid() -> None:
    """Parsers raise ValueError, which Config turns into a message naming the option."""
    with pytest.raises(ValueError, match="not positive"):
        parse_positive("0")
    assert optional_path("") is None
