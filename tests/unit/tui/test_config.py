"""Client settings: flags over environment over the config file; the file is private."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tui.model.config import ConfigError, resolve, write_config_file


def test_flags_beat_env_beat_file(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    write_config_file(config, {"url": "http://file:1", "token": "file-token", "device_id": "DEV-F"})
    env = {"BUILDEROS_URL": "http://env:2", "BUILDEROS_TOKEN": "env-token"}
    from_file = resolve(config_path=config, env={}, data_dir=tmp_path)
    assert (from_file.url, from_file.token, from_file.device_id) == (
        "http://file:1",
        "file-token",
        "DEV-F",
    )
    from_env = resolve(config_path=config, env=env, data_dir=tmp_path)
    assert (from_env.url, from_env.token) == ("http://env:2", "env-token")
    from_flags = resolve(
        url="https://flag:3/", token="flag-token", config_path=config, env=env, data_dir=tmp_path
    )
    assert (from_flags.url, from_flags.token) == ("https://flag:3", "flag-token")


def test_no_backend_anywhere_means_demo(tmp_path: Path) -> None:
    settings = resolve(config_path=tmp_path / "absent.json", env={}, data_dir=tmp_path)
    assert settings.demo and settings.url is None


def test_config_file_is_written_owner_only_and_merged(tmp_path: Path) -> None:
    config = tmp_path / "dir" / "config.json"
    write_config_file(config, {"url": "http://a:1"})
    write_config_file(config, {"token": "secret"})
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert resolve(config_path=config, env={}).token == "secret"
    assert resolve(config_path=config, env={}).url == "http://a:1"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "localhost:8080", "token": "t"}, "not an http"),
        ({"url": "http://h:1"}, "no API token"),
    ],
)
def test_unusable_settings_are_clear_errors(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve(config_path=tmp_path / "absent.json", env={}, **kwargs)


def test_broken_config_file_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read the config file"):
        resolve(config_path=config, env={})


def test_save_takes_the_token_from_the_environment(tmp_path: Path) -> None:
    """A token typed on a command line is readable by every local user (/proc/PID/cmdline);
    `--save` can take it from BUILDEROS_TOKEN instead. (The data dir is a file here, so the
    command stops right after saving, before the app would start.)"""
    import json

    from typer.testing import CliRunner

    from builderos.cli import app

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    config = tmp_path / "config.json"
    result = CliRunner().invoke(
        app,
        [
            "chat",
            "--url",
            "http://h:1",
            "--save",
            "--config",
            str(config),
            "--data-dir",
            str(blocker / "data"),
        ],
        env={"BUILDEROS_TOKEN": "from-the-env"},
    )
    assert result.exit_code == 1 and "Saved url, token" in result.output
    assert json.loads(config.read_text()) == {"url": "http://h:1", "token": "from-the-env"}
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
