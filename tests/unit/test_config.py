"""Unit tests of :mod:`pip_accel.config`: sizes, unwritable parts of the data directory, samples."""

from pathlib import Path

import pytest

from pip_accel.config import Config
from pip_accel.exceptions import ConfigurationError

from support import CHECKOUT


def test_a_size_in_no_real_unit_is_refused_from_every_source(tmp_path: Path) -> None:
    """humanfriendly reads "2 parsecs" as 2 PB (by its "p"): every source refuses it, in one
    line naming the option, the value and the source; real units, short or long, are read."""
    config = tmp_path / "size.conf"
    config.write_text("[pip-accel]\nmax-cache-size = 2 parsecs\n")
    home = {"HOME": str(tmp_path)}
    sources = {
        "the code that called pip-accel": Config({"max-cache-size": "2 parsecs"}, home),
        "$PIP_ACCEL_MAX_CACHE_SIZE": Config(
            environ={**home, "PIP_ACCEL_MAX_CACHE_SIZE": "2 parsecs"}
        ),
        str(config): Config(environ={**home, "PIP_ACCEL_CONFIG": str(config)}),
    }
    for source, config_of_source in sources.items():
        with pytest.raises(ConfigurationError) as refused:
            config_of_source.max_cache_size  # noqa: B018 (reading it is the test)
        message = str(refused.value)
        assert "max-cache-size" in message and "'2 parsecs'" in message and source in message
        assert "\n" not in message
    sizes = {
        "20GB": 20 * 1000**3,
        "500 MiB": 500 * 1024**2,
        "2 gigabytes": 2 * 1000**3,
        "5M": 5 * 1000**2,
    }
    for text, size in sizes.items():
        assert Config({"max-cache-size": text}, home).max_cache_size == size
    for text in ("2 bogus", "GB", "1.5 GB of disk"):
        with pytest.raises(ConfigurationError):
            Config({"max-cache-size": text}, home).max_cache_size  # noqa: B018


def test_unwritable_part_of_data_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unwritable part of the data directory is named, with the file that set the directory."""
    data = tmp_path / "data"
    (data / "trees").mkdir(parents=True)
    config_file = tmp_path / "pip-accel.conf"
    config_file.write_text(f"[pip-accel]\ndata-directory = {data}\n")
    monkeypatch.setattr("pip_accel.config._writable", lambda path: path.name != "trees")
    config = Config(environ={"HOME": str(tmp_path), "PIP_ACCEL_CONFIG": str(config_file)})
    with pytest.raises(ConfigurationError) as raised:
        config.validate()
    message = str(raised.value)
    assert f"{data / 'trees'} in the data directory {data}" in message
    assert f"(from configuration file {config_file})" in message and "\n" not in message


def test_sample_s3_configuration_file_is_valid(tmp_path: Path) -> None:
    """The S3 sample in config/ parses; it is not used to run, which would contact AWS."""
    sample = CHECKOUT / "config" / "pip-accel-s3.conf"
    environ = {"HOME": str(tmp_path), "PIP_ACCEL_CONFIG": str(sample)}
    config = Config(environ=environ)
    config.validate()
    assert (config.s3_bucket, config.s3_prefix) == ("example-pip-accel-cache", "ci")
    assert (config.s3_readonly, config.s3_timeout, config.s3_retries) == (False, 30.0, 3)
