"""Client settings: command-line flags over environment over the config file.

The config file is JSON in the platform config dir, written with mode 0600 because it holds the
API token. With no backend configured anywhere, the client runs in demo mode on the bundled mock.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from tui.client.frames import normalise_base_url

ENV_URL = "BUILDEROS_URL"
ENV_TOKEN = "BUILDEROS_TOKEN"


class ConfigError(Exception):
    """A setting is unusable; the text says which and how to fix it."""


def default_config_path() -> Path:
    from platformdirs import user_config_path  # not needed when --config names the file

    return user_config_path("builderos", appauthor=False) / "config.json"


def default_data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path("builderos", appauthor=False)


@dataclass(frozen=True)
class ClientConfig:
    url: str | None
    """None: demo mode, the bundled mock backend in-process."""
    token: str | None
    device_id: str | None
    data_dir: Path

    @property
    def demo(self) -> bool:
        return self.url is None


def read_config_file(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"the config file {path} must hold a JSON object")
    return {k: v for k, v in data.items() if isinstance(v, str)}


def write_config_file(path: Path, values: dict[str, str]) -> None:
    """Merge `values` into the config file, readable by its owner only."""
    merged = {**read_config_file(path), **values}
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(merged, out, indent=2)
    temp.chmod(0o600)
    temp.replace(path)


def resolve(
    *,
    url: str | None = None,
    token: str | None = None,
    device_id: str | None = None,
    data_dir: Path | None = None,
    config_path: Path | None = None,
    env: dict[str, str] | None = None,
) -> ClientConfig:
    env = dict(os.environ) if env is None else env
    file = read_config_file(config_path or default_config_path())
    chosen_url = url or env.get(ENV_URL) or file.get("url") or None
    if chosen_url is not None:
        try:
            chosen_url = normalise_base_url(chosen_url)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    chosen_token = token or env.get(ENV_TOKEN) or file.get("token") or None
    if chosen_url is not None and not chosen_token:
        raise ConfigError(
            f"no API token for {chosen_url}: pass --token, set {ENV_TOKEN}, or save one with --save"
        )
    return ClientConfig(
        url=chosen_url,
        token=chosen_token,
        device_id=device_id or file.get("device_id") or None,
        data_dir=_data_dir(data_dir, file),
    )


def data_dir_of(data_dir: Path | None = None, config_path: Path | None = None) -> Path:
    """The data dir alone (the commands that read the history need no backend or token)."""
    return _data_dir(data_dir, read_config_file(config_path or default_config_path()))


def _data_dir(given: Path | None, file: dict[str, str]) -> Path:
    folder = given or (Path(file["data_dir"]) if file.get("data_dir") else default_data_dir())
    return folder.expanduser()
