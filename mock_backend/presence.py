"""Who is on each session now (docs/protocol.md §5.3): the sockets following it that asked for
`sync`, and the base-contract sockets (the iOS app) that sent it a message. Plain Python: the
delivery side calls `join` and `leave`, and hears of each change through `changed(session_id)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mock_backend.wire import now_iso


@dataclass
class _Here:
    device_id: str
    name: str | None
    since: str
    count: int = 1
    """How many times this socket joined (a follow replaced by the next counts twice a while)."""


class Presence:
    def __init__(self, changed: Callable[[str], None]) -> None:
        self._changed = changed
        self._here: dict[str, dict[object, _Here]] = {}
        """Per session, per socket (any hashable key): the device there."""
        self._versions: dict[str, int] = {}
        self._closes: dict[str, tuple[int, str]] = {}

    def join(self, session_id: str, key: object, device_id: str, name: str | None) -> None:
        here = self._here.setdefault(session_id, {})
        if key in here:
            here[key].count += 1
            return
        before = self.devices(session_id)
        here[key] = _Here(device_id, name, now_iso())
        self._bump(session_id, before)

    def leave(self, session_id: str, key: object) -> None:
        here = self._here.get(session_id, {})
        entry = here.get(key)
        if entry is None:
            return
        entry.count -= 1
        if entry.count > 0:
            return
        before = self.devices(session_id)
        del here[key]
        if not here:
            del self._here[session_id]
        self._bump(session_id, before)

    def leave_all(self, key: object) -> None:
        """The socket is gone: it leaves every session it was on."""
        for session_id in [s for s, here in self._here.items() if key in here]:
            self._here[session_id][key].count = 1
            self.leave(session_id, key)

    def devices(self, session_id: str) -> list[dict[str, str]]:
        """The devices on the session, each once (its first socket's `since`), oldest first."""
        seen: dict[str, dict[str, str]] = {}
        for entry in sorted(self._here.get(session_id, {}).values(), key=lambda e: e.since):
            if entry.device_id not in seen:
                device = {"device_id": entry.device_id, "since": entry.since}
                seen[entry.device_id] = {**device, **({"name": entry.name} if entry.name else {})}
        return list(seen.values())

    def version(self, session_id: str) -> int:
        """Grows each time the session's devices change."""
        return self._versions.get(session_id, 0)

    def closed(self, session_id: str, by: str) -> None:
        """The session was closed by `by`: its followers are told (`closes`)."""
        count = self._closes.get(session_id, (0, ""))[0]
        self._closes[session_id] = (count + 1, by)
        self._changed(session_id)

    def closes(self, session_id: str) -> tuple[int, str]:
        """How many times the session was closed while this server ran, and by whom last."""
        return self._closes.get(session_id, (0, ""))

    def busy_devices(self) -> dict[str, list[dict[str, str]]]:
        """Every session someone is on, with its devices (for the sessions list)."""
        return {session_id: self.devices(session_id) for session_id in self._here}

    def _bump(self, session_id: str, before: list[dict[str, str]]) -> None:
        if [d["device_id"] for d in self.devices(session_id)] != [d["device_id"] for d in before]:
            self._versions[session_id] = self.version(session_id) + 1
            self._changed(session_id)
