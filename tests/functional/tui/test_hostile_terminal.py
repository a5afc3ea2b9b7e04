"""The real `builderos` on a real pseudo-terminal, against the hostile backend
(tests/hostile_backend.py): whatever a server sends, the bytes the app writes to the terminal
must not obey it. Text with `ESC ]52` (clipboard), `ESC ]0;` (title), `ESC [2J`, DCS, APC, 8-bit
C1 controls or Rich markup is shown, never executed (tui/client/inert.py).

The pilot cannot see this: it renders into Textual's own model, not to a terminal. So each test
runs `builderos` as a subprocess on a pty (120x40, TERM=xterm-256color), reads every byte it
draws, waits (bounded, on what is drawn) for a marker the server put at the end of its text, and
then compares the escape sequences with a baseline: the same app against the normal mock. What
Textual itself emits (mouse modes, OSC 22 pointer shape, the alternate screen) is in both; what
the hostile text smuggled in is only in the hostile run.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import re
import struct
import sys
import tempfile
import termios
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from harness.timing import scaled
from mock_backend import MockBackend, MockConfig
from tests.hostile_backend import (
    ERROR_MARKER,
    ERRORS_DONE,
    HISTORY_MARKER,
    HOSTILE_HISTORY_REPLY,
    HOSTILE_REPLY,
    HOSTILE_SESSION,
    HOSTILE_TEXT,
    MARKER,
    HostileBackend,
)
from tui.store import ChatStore

pytestmark = pytest.mark.functional

COLUMNS, LINES = 120, 40
CONNECTED = re.compile(rb"(?<!dis)connected")
"""The status bar once the tab's socket is open (not `disconnected`)."""
BASELINE_REPLY = b"word received"
"""In the simulated agent's answer to `hello` (mock_backend/bridgehub/simulated.py)."""
QUIT = b"\x11"  # ctrl+q
StartHostile = Callable[..., Awaitable[HostileBackend]]


# a process on a pseudo-terminal -------------------------------------------------------------------


@dataclass
class Terminal:
    """A subprocess whose terminal is a pty we hold the other end of: every byte it draws is
    kept in `output`, in order."""

    process: asyncio.subprocess.Process
    master: int
    output: bytearray = field(default_factory=bytearray)
    eof: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def on_readable(self) -> None:
        try:
            data = os.read(self.master, 1 << 16)
        except OSError:  # EIO: every slave end is closed
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self.master)
            self.eof.set()
        self.output.extend(data)
        self.changed.set()

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def wait_for(self, wanted: bytes | re.Pattern[bytes], what: str, timeout: float) -> None:
        """Until `wanted` has been drawn; a failure shows the screen's last bytes."""
        pattern = wanted if isinstance(wanted, re.Pattern) else re.compile(re.escape(wanted))
        try:
            async with asyncio.timeout(timeout):
                while not pattern.search(self.output):
                    if self.eof.is_set():
                        raise AssertionError(f"the program ended before {what}\n{self.tail()}")
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            raise AssertionError(f"no {what} within {timeout:.0f} s\n{self.tail()}") from None

    async def until(self, condition: Callable[[], bool], what: str, timeout: float) -> None:
        """Until `condition()` holds (checked as the screen changes and every 0.1 s)."""
        try:
            async with asyncio.timeout(timeout):
                while not condition():
                    self.changed.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.changed.wait(), 0.1)
        except TimeoutError:
            raise AssertionError(f"no {what} within {timeout:.0f} s\n{self.tail()}") from None

    async def exit_code(self, timeout: float) -> int:
        """The exit code, once the program ended and everything it wrote was read."""
        try:
            async with asyncio.timeout(timeout):
                code = await self.process.wait()
                await self.eof.wait()
        except TimeoutError:
            raise AssertionError(f"still running after {timeout:.0f} s\n{self.tail()}") from None
        return code

    def tail(self, size: int = 4000) -> str:
        """The last bytes drawn, readable: escape sequences dropped, cursor moves as new lines,
        then the very last bytes raw."""
        text = bytes(self.output[-size * 4 :]).decode("utf-8", "replace")
        text = re.sub(r"\x1b\[\d+;\d+H", "\n", text)
        text = SEQUENCE.sub("", text)
        lines = [line.rstrip() for line in text.splitlines() if line.strip()]
        raw = bytes(self.output[-600:])
        return (
            "--- last lines drawn ---\n"
            + "\n".join(lines)[-size:]
            + f"\n--- last bytes ---\n{raw!r}"
        )


def child_env() -> dict[str, str]:
    """The user's environment minus anything that picks a backend or changes Textual."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BUILDEROS_", "TEXTUAL", "NO_COLOR", "COLORTERM", "FORCE_COLOR"))
    }
    if "BUILDEROS_TIME_FACTOR" in os.environ:
        env["BUILDEROS_TIME_FACTOR"] = os.environ["BUILDEROS_TIME_FACTOR"]
    env.update(TERM="xterm-256color", COLUMNS=str(COLUMNS), LINES=str(LINES), LC_ALL="C.UTF-8")
    return env


def builderos(*args: str) -> list[str]:
    return [sys.executable, "-m", "builderos", *args]


@contextlib.asynccontextmanager
async def on_pty(argv: list[str], *, stdin_pty: bool = True) -> AsyncIterator[Terminal]:
    """Run `argv` with its stdout and stderr (and stdin) on a fresh 120x40 pty."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=slave if stdin_pty else asyncio.subprocess.DEVNULL,
            stdout=slave,
            stderr=slave,
            env=child_env(),
            start_new_session=True,
        )
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    terminal = Terminal(process, master)
    loop = asyncio.get_running_loop()
    loop.add_reader(master, terminal.on_readable)
    try:
        yield terminal
    finally:
        if terminal.alive:
            process.kill()
            await process.wait()
        loop.remove_reader(master)
        os.close(master)


async def on_pipe(argv: list[str]) -> tuple[int, bytes, bytes]:
    """Run `argv` with stdout and stderr on pipes: (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=child_env(),
    )
    try:
        async with asyncio.timeout(scaled(20)):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out, err


def cli_argv(command: str, url: str, data_dir: Path, *extra: str) -> list[str]:
    """`builderos COMMAND …` against `url`, with its own data dir and no config file."""
    settings = ["--token", "t", "--data-dir", str(data_dir), "--config", f"{data_dir}/none.json"]
    return builderos(command, *extra, "--url", url, *settings)


def chat_argv(url: str, data_dir: Path, *extra: str) -> list[str]:
    return cli_argv("chat", url, data_dir, *extra)


# what a byte stream does to a terminal -----------------------------------------------------------

SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b[\]P_^X].*?(?:\x07|\x1b\\|\Z)"  # OSC, DCS, APC, PM, SOS (to BEL or ST or the end)
    r"|\x1b[ -/]*[0-~]"  # other escapes (ESC 7, ESC ( B, …)
    r"|\x1b",  # a lone ESC
    re.S,
)
STRINGS = {"]": "OSC", "P": "DCS", "_": "APC", "^": "PM", "X": "SOS"}
CORPUS_CSI = ["\x1b[2J", "\x1b[31m", "\x1b[?1049l", "\x1b[6n", "\x1b[21t"]
"""The corpus's CSI sequences: Textual may emit some itself, never more than in the baseline."""
SMUGGLED = ("PWNED", "etc/passwd", "cm0gLXJmIH4=")  # cm0g…: base64 of `rm -rf ~`


@dataclass(frozen=True)
class Stream:
    """A program's terminal output, taken apart into what a terminal would act on."""

    raw: bytes

    @cached_property
    def text(self) -> str:
        return self.raw.decode("utf-8", "replace")

    @cached_property
    def sequences(self) -> list[str]:
        return SEQUENCE.findall(self.text)

    @cached_property
    def strings(self) -> list[str]:
        """Control strings: OSC, DCS, APC, PM, SOS, whole."""
        return [s for s in self.sequences if s[1:2] in STRINGS]

    def string_kind(self, seq: str) -> str:
        """`OSC 22`, `DCS`, …: what a control string is, without its varying payload."""
        kind = STRINGS[seq[1]]
        if kind == "OSC":
            number = re.match(r"\d*", seq[2:])
            return f"OSC {number.group() if number else ''}"
        return kind

    @cached_property
    def loose_controls(self) -> Counter[str]:
        """Control characters outside escape sequences (C0, DEL, C1 as characters)."""
        rest = SEQUENCE.sub("", self.text)
        return Counter(c for c in rest if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0)

    @cached_property
    def invalid_utf8(self) -> str | None:
        try:
            self.raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"invalid UTF-8 at byte {exc.start}: {self.raw[exc.start : exc.start + 8]!r}"
        return None


def leaks(hostile: Stream, baseline: Stream) -> list[str]:
    """What the hostile run wrote that acts on a terminal and the baseline run did not."""
    found = []
    allowed_kinds = {baseline.string_kind(s) for s in baseline.strings}
    for seq in hostile.strings:
        kind = hostile.string_kind(seq)
        if kind not in allowed_kinds or any(word in seq for word in SMUGGLED):
            found.append(f"{kind} control string written: {seq[:120]!r}")
    for seq in CORPUS_CSI:
        extra = hostile.text.count(seq) - baseline.text.count(seq)
        if extra > 0:
            found.append(f"{seq!r} written {extra} time(s) more than by the app itself")
    private = Counter(s for s in hostile.sequences if s.startswith("\x1b[?"))
    usual = Counter(s for s in baseline.sequences if s.startswith("\x1b[?"))
    for seq, count in private.items():
        if count > usual[seq] and seq not in CORPUS_CSI:
            found.append(f"mode change {seq!r} written {count - usual[seq]} time(s) more")
    others = {s for s in baseline.sequences if not s.startswith("\x1b[") and s[1:2] not in STRINGS}
    for seq in sorted(
        {s for s in hostile.sequences if not s.startswith("\x1b[") and s[1:2] not in STRINGS}
    ):
        if seq not in others:
            found.append(f"escape {seq!r} written (the app itself never writes it)")
    for char, count in sorted(hostile.loose_controls.items()):
        if char not in baseline.loose_controls:
            found.append(f"control character U+{ord(char):04X} written {count} time(s)")
    if re.search(r"\x1b\][0-9]*;?PWNED", hostile.text):
        found.append("the corpus's title PWNED-TITLE follows ESC ] (a title change)")
    if hostile.invalid_utf8:
        found.append(hostile.invalid_utf8)
    return found


def assert_inert(terminal: Terminal, baseline: Stream) -> None:
    problems = leaks(Stream(bytes(terminal.output)), baseline)
    assert not problems, "the terminal was sent:\n" + "\n".join(problems) + "\n" + terminal.tail()


def plain_text_problems(output: bytes) -> list[str]:
    """For a command's output on a terminal: nothing but printable text, tabs and line ends."""
    stream = Stream(output)
    found = [f"escape sequence {seq[:60]!r}" for seq in dict.fromkeys(stream.sequences)]
    found += [
        f"control character U+{ord(c):04X} ×{n}"
        for c, n in sorted(stream.loose_controls.items())
        if c not in "\r\n\t"
    ]
    if stream.invalid_utf8:
        found.append(stream.invalid_utf8)
    return found


# the baseline: the same app, a normal backend ----------------------------------------------------

_baseline: Stream | None = None


async def baseline() -> Stream:
    """The app's own bytes against the normal mock: start, connect, one message and its
    reply, ctrl+q. Recorded once per process."""
    global _baseline
    if _baseline is None:
        with tempfile.TemporaryDirectory(prefix="builderos-baseline-") as folder:
            data_dir = Path(folder)
            config = MockConfig(
                port=0,
                token="t",
                db_path=data_dir / "mock" / "sessions.db",
                chunk_delay=0,
                capsule=folder,
            )
            backend = MockBackend(config)
            await backend.start()
            try:
                async with on_pty(chat_argv(backend.url, data_dir / "chat")) as terminal:
                    await terminal.wait_for(CONNECTED, "connection (baseline)", scaled(20))
                    terminal.type(b"hello\r")
                    await terminal.wait_for(BASELINE_REPLY, "reply (baseline)", scaled(20))
                    terminal.type(QUIT)
                    assert await terminal.exit_code(scaled(10)) == 0, terminal.tail()
                    _baseline = Stream(bytes(terminal.output))
            finally:
                await backend.stop()
    return _baseline


@pytest.fixture
async def hostile() -> AsyncIterator[StartHostile]:
    """Start hostile backends by mode; all are stopped at teardown."""
    started: list[HostileBackend] = []

    async def start(mode: str, **options: Any) -> HostileBackend:
        backend = HostileBackend(mode, **options)
        await backend.start()
        started.append(backend)
        return backend

    yield start
    for backend in started:
        await backend.stop()


async def quit_cleanly(terminal: Terminal) -> None:
    assert terminal.alive, f"the app died\n{terminal.tail()}"
    terminal.type(QUIT)
    code = await terminal.exit_code(scaled(10))
    assert code == 0, f"exit code {code}\n{terminal.tail()}"


# the chat app ------------------------------------------------------------------------------------


async def test_a_reply_full_of_control_sequences_is_drawn_inert(
    hostile: StartHostile, tmp_path: Path
) -> None:
    """The corpus as a streamed reply in a tab: drawn as ␛…, nothing obeyed, the app lives."""
    usual = await baseline()
    backend = await hostile("controls")
    async with on_pty(chat_argv(backend.url, tmp_path)) as terminal:
        await terminal.wait_for(CONNECTED, "connection", scaled(15))
        terminal.type(b"hello\r")
        await terminal.wait_for(MARKER.encode(), f"{MARKER} (end of the reply)", scaled(20))
        assert "␛".encode() in terminal.output, "the ESC characters are shown as ␛"
        await quit_cleanly(terminal)
        assert_inert(terminal, usual)
    store = ChatStore(tmp_path / "history.db")
    try:
        (session,) = {s.session_id for s in store.sessions()}
        stored = [m.text for m in store.session_messages(session) if m.role == "assistant"]
    finally:
        store.close()
    assert stored == [HOSTILE_REPLY], "the history keeps the reply as the server sent it"


async def test_error_frames_and_notices_are_drawn_inert(
    hostile: StartHostile, tmp_path: Path
) -> None:
    """A failed reply's error (content and detail), an unnumbered error, an unknown frame
    type `[/]x`, a non-JSON frame starting `[/]` and a plain-text `error:` status, all full
    of the corpus: shown inert, and none of them ends the app."""
    usual = await baseline()
    backend = await hostile("controls")
    async with on_pty(chat_argv(backend.url, tmp_path)) as terminal:
        await terminal.wait_for(CONNECTED, "connection", scaled(15))
        terminal.type(b"error\r")
        await terminal.wait_for(ERROR_MARKER.encode(), "the failed reply's error", scaled(15))
        await terminal.wait_for(ERRORS_DONE.encode(), "the last error frame", scaled(15))
        await quit_cleanly(terminal)
        assert_inert(terminal, usual)


async def test_a_hostile_session_history_is_drawn_inert(
    hostile: StartHostile, tmp_path: Path
) -> None:
    """`chat --session` fetches a history whose texts, attachment file name and URL carry
    the corpus: drawn inert; the file name's right-to-left override is shown as ⟨U+202E⟩."""
    usual = await baseline()
    backend = await hostile("controls")
    argv = chat_argv(backend.url, tmp_path, "--session", HOSTILE_SESSION)
    async with on_pty(argv) as terminal:
        await terminal.wait_for(HISTORY_MARKER.encode(), "the history's last line", scaled(20))
        assert any(r.path.endswith("/messages") for r in backend.requests)
        await quit_cleanly(terminal)
        assert_inert(terminal, usual)
        assert "⟨U+202E⟩".encode() in terminal.output, (
            "the attachment's name shows its bidi override\n" + terminal.tail()
        )


async def test_a_redirected_socket_is_not_followed_and_the_canary_hears_nothing(
    hostile: StartHostile, tmp_path: Path
) -> None:
    """The WebSocket upgrade answered 302 to another server: following it would hand the
    token (the first frame) and the chat to a host the user never named."""
    backend = await hostile("redirect")
    canary = backend.canary
    assert canary is not None
    upgrades = lambda: sum(r.path.endswith("/ws") for r in backend.requests)  # noqa: E731
    async with on_pty(chat_argv(backend.url, tmp_path)) as terminal:
        await terminal.until(lambda: upgrades() >= 1, "WebSocket upgrade", scaled(15))
        terminal.type(b"hello\r")
        # a client that retries came back to the server it was given; one that followed the
        # redirect is talking to the canary instead
        await terminal.until(
            lambda: upgrades() >= 2 or bool(canary.frames),
            "second attempt (or a frame at the canary)",
            scaled(15),
        )
        assert canary.frames == [], f"the canary got {[f.text for f in canary.frames][:3]}"
        assert canary.record.requests == [], "the client connected to the redirect target"
        await terminal.wait_for(b"redirects to", "the refused redirect on screen", scaled(15))
        await quit_cleanly(terminal)


# the command line: a terminal gets inert text, a pipe gets what the server said ------------------


@pytest.mark.parametrize(
    ("command", "extra", "marker"),
    [
        ("send", ["hi"], MARKER),
        ("sessions", [], HOSTILE_SESSION),  # the corpus in session_id, device_id, agent_type
        ("export", ["--session", HOSTILE_SESSION, "--format", "md"], HISTORY_MARKER),
    ],
)
async def test_a_command_on_a_terminal_prints_inert_text(
    hostile: StartHostile, tmp_path: Path, command: str, extra: list[str], marker: str
) -> None:
    ChatStore(tmp_path / "history.db").close()  # `sessions` lists this machine's too
    backend = await hostile("controls")
    argv = cli_argv(command, backend.url, tmp_path, *extra)
    async with on_pty(argv, stdin_pty=False) as term:
        code = await term.exit_code(scaled(20))
    assert code == 0, term.tail()
    assert marker.encode() in term.output, term.tail()
    problems = plain_text_problems(bytes(term.output))
    assert not problems, f"on a terminal, {command} wrote:\n" + "\n".join(problems)


async def test_send_on_a_pipe_prints_the_reply_byte_for_byte(
    hostile: StartHostile, tmp_path: Path
) -> None:
    backend = await hostile("controls")
    code, out, err = await on_pipe(cli_argv("send", backend.url, tmp_path, "hi"))
    assert code == 0, err.decode(errors="replace")[-2000:]
    assert out == (HOSTILE_REPLY + "\n").encode(), "a pipe gets the reply exactly as sent"


async def test_sessions_as_json_on_a_pipe_keep_the_ids_as_sent(
    hostile: StartHostile, tmp_path: Path
) -> None:
    ChatStore(tmp_path / "history.db").close()
    backend = await hostile("controls")
    code, out, err = await on_pipe(cli_argv("sessions", backend.url, tmp_path, "--json"))
    assert code == 0, err.decode(errors="replace")[-2000:]
    listed = {row["session_id"] for row in json.loads(out)}
    served = {row["session_id"] for row in backend.mode.sessions()["sessions"]}
    assert served <= listed, f"missing: {sorted(served - listed)[:3]!r}"


async def test_export_on_a_pipe_keeps_the_history_as_sent(
    hostile: StartHostile, tmp_path: Path
) -> None:
    backend = await hostile("controls")
    argv = cli_argv("export", backend.url, tmp_path, "--session", HOSTILE_SESSION)
    code, out, err = await on_pipe([*argv, "--format", "md"])
    assert code == 0, err.decode(errors="replace")[-2000:]
    exported = out.decode("utf-8")
    assert HOSTILE_TEXT in exported, "a pipe gets the replies as sent"
    assert HOSTILE_HISTORY_REPLY in exported, "a pipe gets the replies as sent"


# floods: the app lives through them and still answers -------------------------------------------


@pytest.mark.parametrize(
    ("mode", "options"),
    [
        ("flood-unknown", {}),
        ("flood-errors", {}),
        ("phantom-replies", {}),
        ("big-reply", {"size_mib": 1}),
    ],
)
async def test_the_app_lives_through_a_flood_and_still_answers(
    hostile: StartHostile, tmp_path: Path, mode: str, options: dict[str, Any]
) -> None:
    """20,000 unknown frames, 20,000 errors, 5,000 replies to nothing, or a 1 MiB reply as
    fast as the socket goes: afterwards the app still runs, draws the answer to a new message
    (or the big reply up to what is shown, and the note on how to get the rest) and quits
    cleanly."""
    backend = await hostile(mode, **options)
    async with on_pty(chat_argv(backend.url, tmp_path)) as terminal:
        await terminal.wait_for(CONNECTED, "connection", scaled(15))
        terminal.type(b"hello\r")
        wanted = "characters not shown here" if mode == "big-reply" else "echo: hello"
        await terminal.wait_for(wanted.encode(), f"{wanted!r} after the flood", scaled(20))
        await quit_cleanly(terminal)


def test_the_leak_detector_sees_the_raw_corpus() -> None:
    """The checks above are only as good as `leaks`: the corpus written raw is caught, the
    app's own sequences are not."""
    own = b"\x1b[?1049h\x1b]22;default\x1b\\\x1b[38;5;32mhi\x1b[0m\r\n\x1b[?1049l"
    assert leaks(Stream(own), Stream(own)) == []
    found = "\n".join(leaks(Stream(own + HOSTILE_REPLY.encode()), Stream(own)))
    for expected in ("OSC 52", "OSC 0", "OSC 2", "OSC 8", "DCS", "APC", "PM", "SOS", "PWNED"):
        assert expected in found
    for expected in ("'\\x1b[2J'", "'\\x1b[?1049l'", "U+009B", "U+0000", "U+0007"):
        assert expected in found
    assert plain_text_problems("␛]52;c;x␇ ok\r\n".encode()) == []
    assert plain_text_problems(b"\x1b]52;c;x\x07") != []
