"""Suite `checklist`: the seeds' testing checklists, item by item, through the real app.

Each scenario drives the Textual app headless against the target backend, in a data dir and
with a device id of its own, and checks what the screen shows and what the backend reports.
Seed 000 is "Multi-Tab Session Persistence" ("Testing Checklist"); seed 001 is "Session-
Persistent Server" ("iOS Integration").
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from harness.driver import RESTART_WAIT, AppRun, blocks, data_dir, replies_done
from harness.outcome import check
from harness.scenario import ScenarioList
from harness.target import Target
from tui.client.history import fetch_history
from tui.model.workspace import MAX_TABS, ChatTab

SEED_000 = "seed 000, Testing Checklist"
SEED_001 = "seed 001, iOS Integration"
BEYOND = "beyond the seeds"
CHECKLIST = ScenarioList("checklist")
SESSION_ID = re.compile(r"^(?P<device>.+)-(?P<provider>claude|codex)-(?P<tab>[0-9A-Fa-f-]{36})$")


def app_run(target: Target, directory: Path) -> AppRun:
    """The app on `directory`, with the device id it generates there (so one of its own)."""
    return AppRun(directory, target.url, target.token)


@asynccontextmanager
async def fresh_app(target: Target) -> AsyncIterator[AppRun]:
    async with data_dir() as directory, app_run(target, directory) as run:
        await run.connected()
        yield run


CODE_WORDS = ("amber", "cobalt", "saffron", "violet", "jade")


def code_word() -> str:
    """A word to remember that no earlier message contains."""
    return f"{secrets.choice(CODE_WORDS)}{secrets.token_hex(3)}"


async def listed(target: Target, tab: ChatTab, messages: int | None = None) -> dict[str, object]:
    """The tab's session as /api/sessions lists it; fails naming what was listed instead."""
    sessions = await target.sessions()
    session = sessions.get(tab.session_id)
    check(
        session is not None,
        f"/api/sessions does not list the tab's session {tab.session_id} ({len(sessions)} listed)",
    )
    assert session is not None
    check(
        session.get("agent_type") == tab.provider,
        f"session {tab.session_id} is listed with agent_type {session.get('agent_type')!r}, "
        f"expected {tab.provider!r}",
    )
    if messages is not None:
        check(
            session.get("message_count") == messages,
            f"session {tab.session_id} has message_count {session.get('message_count')!r}, "
            f"expected {messages}",
        )
    return session


def session_id_shape(tab: ChatTab, device_id: str) -> None:
    match = SESSION_ID.match(tab.session_id)
    check(
        match is not None
        and match["device"] == device_id
        and match["provider"] == tab.provider
        and match["tab"] == tab.tab_id,
        f"session id {tab.session_id!r} is not {{deviceId}}-{tab.provider}-{{tabId}} "
        f"(device {device_id}, tab {tab.tab_id})",
    )


def shows(run: AppRun, index: int, *texts: str) -> None:
    shown = "\n".join(run.shown(index))
    for text in texts:
        check(
            text in shown,
            f"tab {index + 1} does not show “{text}” (it shows {len(run.shown(index))} messages)",
        )


def hides(run: AppRun, index: int, *texts: str) -> None:
    shown = "\n".join(run.shown(index))
    for text in texts:
        check(text not in shown, f"tab {index + 1} shows “{text}”, which belongs to another tab")


# seed 000: Testing Checklist ------------------------------------------------------------------


@CHECKLIST.add("build-succeeds", SEED_000)
async def build_succeeds(target: Target) -> None:
    """Build succeeds with no errors.

    The app starts and composes its screen with no error: one Claude tab, connected, and an
    empty composer with the focus.
    """
    async with fresh_app(target) as run:
        check(
            len(run.workspace.tabs) == 1,
            f"{len(run.workspace.tabs)} tabs at first start, expected 1",
        )
        tab = run.tab()
        check(
            tab.provider == "claude" and tab.title == "Claude",
            f"first tab is {tab.provider} “{tab.title}”",
        )
        check(
            run.app.focused is not None and run.app.focused.id == "composer",
            "the composer does not have the focus",
        )
        errors = [n for n in run.notices if "error" in n.lower()]
        check(not errors, f"error notices at start: {errors}")


@CHECKLIST.add("first-claude-chat-creates-session", SEED_000)
async def first_claude_chat(target: Target) -> None:
    """Create first Claude chat — verify new session created.

    The first message of a new Claude tab creates `{deviceId}-claude-{tabId}` on the backend.
    """
    async with fresh_app(target) as run:
        tab = run.tab()
        session_id_shape(tab, run.device_id)
        check(
            tab.session_id not in await target.sessions(), "the session existed before any message"
        )
        await run.ask("Hello Jarvis, this is the first chat.")
        await listed(target, tab, messages=2)


@CHECKLIST.add("messages-persist", SEED_000)
async def messages_persist(target: Target) -> None:
    """Send messages in first chat — verify messages persist.

    Two exchanges: both are on screen, in the local history and in the backend's session (4
    messages).
    """
    async with fresh_app(target) as run:
        await run.ask("First message that should persist.")
        await run.ask("Second message that should persist.")
        tab = run.tab()
        stored = [m.text for m in run.workspace.store.recent(tab.session_id, 10)]
        check(len(stored) == 4, f"{len(stored)} messages in the local history, expected 4")
        shows(run, 0, "First message that should persist.", "Second message that should persist.")
        await listed(target, tab, messages=4)


@CHECKLIST.add("second-claude-chat-independent-session", SEED_000)
async def second_claude_chat(target: Target) -> None:
    """Create second Claude chat — verify independent session.

    A second Claude tab has a session id of its own, and the backend keeps the two apart.
    """
    async with fresh_app(target) as run:
        await run.ask("Message in the first chat.")
        second = await run.new_tab("claude")
        first = run.tab(0)
        check(
            second.session_id != first.session_id, "the second tab shares the first tab's session"
        )
        session_id_shape(second, run.device_id)
        await run.ask("Message in the second chat.")
        await listed(target, first, messages=2)
        await listed(target, second, messages=2)


@CHECKLIST.add("separate-histories", SEED_000)
async def separate_histories(target: Target) -> None:
    """Send messages in second chat — verify separate history.

    Each tab shows only its own messages, and each session's context holds only its own.
    """
    word_a, word_b = code_word(), code_word()
    async with fresh_app(target) as run:
        await run.ask(f"Remember the code word {word_a}.")
        await run.new_tab("claude")
        await run.ask(f"Remember the code word {word_b}.")
        reply = await run.ask("What is the code word?")
        check(
            word_b in reply.text and word_a not in reply.text,
            f"the second chat answered: {reply.text[:200]}",
        )
        shows(run, 1, word_b)
        hides(run, 1, word_a)
        await run.goto(1)
        shows(run, 0, word_a)
        hides(run, 0, word_b)


@CHECKLIST.add("switching-shows-right-history", SEED_000)
async def switching(target: Target) -> None:
    """Switch between chats — verify correct history shown.

    Back and forth between two tabs with ctrl+g and alt+arrows: the screen always shows the
    selected tab's history.
    """
    async with fresh_app(target) as run:
        await run.ask("Only in tab one.")
        await run.new_tab("claude")
        await run.ask("Only in tab two.")
        for number in (1, 2, 1, 2):
            await run.goto(number)
            own, other = ("Only in tab one.", "Only in tab two.")[:: 1 if number == 1 else -1]
            shows(run, number - 1, own)
            hides(run, number - 1, other)
            check(run.tab() is run.tab(number - 1), f"tab {number} is not the selected tab")
        await run.pilot.press("ctrl+pageup")
        await run.pilot.pause()
        check(run.tab() is run.tab(0), "ctrl+pageup did not go to the previous tab")


@CHECKLIST.add("deleting-first-chat-closes-session", SEED_000)
async def delete_first(target: Target) -> None:
    """Delete first chat — verify session closed.

    Closing the first tab (F8, y) removes it, the close endpoint answers, and the backend no
    longer lists the session as active.
    """
    async with fresh_app(target) as run:
        await run.ask("A chat to be closed.")
        first = run.tab()
        await run.new_tab("codex")
        await run.goto(1)
        notice = await run.close_selected()
        closed = ("closed on the backend", "already let the session go")  # 200, 404
        check(any(text in notice for text in closed), f"the app said: {notice}")
        check(
            len(run.workspace.tabs) == 1 and run.tab(0) is not first, "the first tab is still there"
        )
        check(
            first.session_id not in await target.sessions(),
            f"/api/sessions still lists {first.session_id}",
        )


@CHECKLIST.add("second-chat-still-works", SEED_000)
async def second_still_works(target: Target) -> None:
    """Verify second chat still works independently.

    With the first tab closed, the second keeps its connection, its history and its context.
    """
    word = code_word()
    async with fresh_app(target) as run:
        await run.ask("The first chat, soon closed.")
        await run.new_tab("claude")
        await run.ask(f"Remember the code word {word}.")
        await run.goto(1)
        await run.close_selected()
        await run.connected()
        reply = await run.ask("What is the code word?")
        check(
            word in reply.text,
            f"the remaining chat lost its context; it answered: {reply.text[:200]}",
        )
        await listed(target, run.tab(), messages=4)


@CHECKLIST.add("restart-restores-chats", SEED_000)
async def restart_restores(target: Target) -> None:
    """Restart app — verify chats restore with correct history.

    Quit with ctrl+q and start again on the same data dir: same tabs, titles (one renamed with
    F2), order, selected tab and histories, reconnected to the same sessions.
    """
    async with data_dir() as directory:
        async with app_run(target, directory) as run:
            await run.connected()
            await run.ask("Before the restart, tab one.")
            await run.new_tab("codex")
            await run.ask("Before the restart, tab two.")
            await run.rename("Reviews")
            before = [(t.tab_id, t.provider, t.title, t.session_id) for t in run.workspace.tabs]
            await run.pilot.press("ctrl+q")
        async with app_run(target, directory) as run:
            after = [(t.tab_id, t.provider, t.title, t.session_id) for t in run.workspace.tabs]
            check(after == before, f"tabs after the restart: {after}, before: {before}")
            label = run.label(1)
            check("Reviews" in label, f"the renamed tab is labelled “{label}” after the restart")
            check(run.tab() is run.tab(1), "the selected tab was not restored")
            await run.connected()
            shows(run, 1, "Before the restart, tab two.")
            await run.goto(1)
            await run.connected()
            shows(run, 0, "Before the restart, tab one.")
            await run.ask("After the restart, tab one.")
            await listed(target, run.tab(0), messages=4)


@CHECKLIST.add("codex-chats", SEED_000)
async def codex_chats(target: Target) -> None:
    """Test with Codex chats as well.

    A Codex tab (ctrl+o) talks to Codex on the codex path: `{deviceId}-codex-{tabId}`, its own
    history, and a second Codex tab is independent of the first.
    """
    async with fresh_app(target) as run:
        first = await run.new_tab("codex")
        check(first.title == "Codex", f"a new Codex tab is titled “{first.title}”")
        session_id_shape(first, run.device_id)
        await run.ask("Hello Codex, first Codex chat.")
        second = await run.new_tab("codex")
        await run.ask("Hello Codex, second Codex chat.")
        check(first.session_id != second.session_id, "two Codex tabs share a session")
        await listed(target, first, messages=2)
        await listed(target, second, messages=2)
        hides(run, 2, "first Codex chat")


@CHECKLIST.add("five-concurrent-chats", SEED_000)
async def five_chats(target: Target) -> None:
    """Test with 5 concurrent chats (UI limit).

    Five tabs, Claude and Codex, each asked at once: every reply lands in its own tab. A sixth
    tab is refused with a visible notice.
    """
    async with fresh_app(target) as run:
        for provider in ("codex", "claude", "codex", "claude"):
            await run.new_tab(provider)
        check(
            len(run.workspace.tabs) == MAX_TABS,
            f"{len(run.workspace.tabs)} tabs, expected {MAX_TABS}",
        )
        for index in range(MAX_TABS):
            await run.connected(index)
        for index, tab in enumerate(run.workspace.tabs):
            run.workspace.send(tab.tab_id, f"Concurrent question number {index + 1}.")
        for index in range(MAX_TABS):
            await run.until(replies_done(run.app, 1, index), f"the reply in tab {index + 1}")
        for index in range(MAX_TABS):
            await run.goto(index + 1)
            shows(run, index, f"Concurrent question number {index + 1}.")
            others = [f"Concurrent question number {n + 1}." for n in range(MAX_TABS) if n != index]
            hides(run, index, *others)
        start = len(run.notices)
        await run.pilot.press("ctrl+n")
        notice = await run.notice(
            lambda text: "tab" in text.lower(), "the sixth tab's refusal", start
        )
        check(len(run.workspace.tabs) == MAX_TABS, "a sixth tab was added")
        check(
            "5" in notice or "five" in notice.lower(),
            f"the refusal does not say the limit: {notice}",
        )


# seed 001: iOS Integration ---------------------------------------------------------------------


@CHECKLIST.add("messages-carry-session-id", SEED_001)
async def carry_session_id(target: Target) -> None:
    """Update iOS app (add session_id field).

    Every chat frame carries the tab's `session_id` and the device id: the backend files the
    message under exactly that session and device (not `default-claude-session`).
    """
    async with fresh_app(target) as run:
        await run.ask("Which session am I in?")
        session = await listed(target, run.tab(), messages=2)
        check(
            session.get("device_id") == run.device_id,
            f"the session's device_id is {session.get('device_id')!r}, expected {run.device_id!r}",
        )


@CHECKLIST.add("connect", SEED_001)
async def connect(target: Target) -> None:
    """Connect to new server.

    The tab authenticates and shows "connected" in its label and status line; the backend's
    health counts the connection.
    """
    async with fresh_app(target) as run:
        status = str(run.app.query_one("#status").render())
        check("connected" in status, f"the status line says: {status}")
        status_code, health = await target.json("GET", "/api/health")
        claude = (
            (health or {}).get("connections", {}).get("claude")
            if isinstance(health, dict)
            else None
        )
        check(
            status_code == 200 and isinstance(claude, int) and claude >= 1,
            f"/api/health counts {claude!r} Claude connections",
        )


@CHECKLIST.add("first-message", SEED_001)
async def first_message(target: Target) -> None:
    """Send first message.

    The reply streams in and ends complete, shown under the message as Jarvis's.
    """
    async with fresh_app(target) as run:
        reply = await run.ask("Show me a Python function that adds two numbers.")
        check(reply.text.strip(), "the reply is empty")
        composer = run.view().composer.text
        check(composer == "", f"the composer still holds “{composer}” after sending")
        shown = run.shown()
        check(shown[-1] == reply.text, "the reply on screen is not the reply received")
        author = blocks(run.app)[-1].title
        check(author == "Jarvis", f"the reply is shown as {author!r}'s, expected Jarvis's")
        check(
            shown[-2] == "Show me a Python function that adds two numbers.",
            "the message is not above its reply",
        )


@CHECKLIST.add("follow-up-retains-context", SEED_001)
async def follow_up(target: Target) -> None:
    """Send follow-up message (verify context retained).

    Ask the agent to remember a code word, then ask for it back.
    """
    word = code_word()
    async with fresh_app(target) as run:
        await run.ask(f"Remember the code word {word}.")
        reply = await run.ask("What is the code word?")
        check(
            word in reply.text, f"asked for the code word {word}, the reply was: {reply.text[:200]}"
        )


@CHECKLIST.add("switch-jarvis-codex", SEED_001)
async def switch_agents(target: Target) -> None:
    """Switch between Jarvis/Codex.

    A Jarvis tab and a Codex tab each remember their own code word: two independent contexts.
    """
    jarvis_word, codex_word = code_word(), code_word()
    async with fresh_app(target) as run:
        await run.ask(f"Remember the code word {jarvis_word}.")
        await run.new_tab("codex")
        await run.ask(f"Remember the code word {codex_word}.")
        await run.goto(1)
        jarvis = await run.ask("What is the code word?")
        await run.goto(2)
        codex = await run.ask("What is the code word?")
        check(
            jarvis_word in jarvis.text and codex_word not in jarvis.text,
            f"Jarvis answered: {jarvis.text[:200]}",
        )
        check(
            codex_word in codex.text and jarvis_word not in codex.text,
            f"Codex answered: {codex.text[:200]}",
        )


@CHECKLIST.add("disconnect-reconnect-restores-session", SEED_001)
async def reconnect(target: Target) -> None:
    """Disconnect and reconnect (verify session restored).

    The backend restarts on the same database; the tab notices the drop, reconnects by itself,
    and the session's context is still there.
    """
    target.require_restart()
    word = code_word()
    async with fresh_app(target) as run:
        await run.ask(f"Remember the code word {word}.")
        tab = run.tab()
        dropped = False

        async def while_down() -> None:
            nonlocal dropped
            await run.dropped()
            dropped = True

        await target.restart(while_down)
        check(dropped, "the tab never showed the drop")
        await run.connected(limit=RESTART_WAIT)
        reply = await run.ask("What is the code word?")
        check(word in reply.text, f"after the reconnect the reply was: {reply.text[:200]}")
        await listed(target, tab, messages=4)


# beyond the seeds ------------------------------------------------------------------------------


@CHECKLIST.add("message-typed-while-down-is-delivered", BEYOND)
async def typed_while_down(target: Target) -> None:
    """A message typed while the backend is down is delivered once it is back.

    It shows as pending while the tab reconnects, then is sent and answered.
    """
    target.require_restart()
    async with fresh_app(target) as run:
        await run.ask("Before the outage.")
        tab = run.tab()

        async def while_down() -> None:
            await run.dropped()
            await run.send("Typed while the backend was down.")
            await run.app.settled()
            pending = [b for b in blocks(run.app) if b.message and b.message.status == "pending"]
            check(
                pending and str(pending[-1].subtitle).startswith("queued"),
                "the message typed while down is not shown as queued",
            )

        await target.restart(while_down)
        await run.until(
            replies_done(run.app, 2), "the reply to the message typed while down", RESTART_WAIT
        )
        sent = [m for m in tab.messages if m.text == "Typed while the backend was down."]
        check(
            sent and sent[0].status == "acknowledged",
            f"the message ended as {sent[0].status if sent else 'missing'}",
        )
        await listed(target, tab, messages=4)


@CHECKLIST.add("device-id-same-after-restart", BEYOND)
async def device_id_kept(target: Target) -> None:
    """The device id is the same after a restart.

    Generated once per installation (data dir) and kept: a new tab after the restart still
    starts its session id with it.
    """
    async with data_dir() as directory:
        async with app_run(target, directory) as run:
            first = run.device_id
            session_id_shape(run.tab(), first)
        async with app_run(target, directory) as run:
            check(
                run.device_id == first,
                f"device id {run.device_id} after the restart, {first} before",
            )
            tab = await run.new_tab("codex")
            session_id_shape(tab, first)


@CHECKLIST.add("drafts-survive-restart", BEYOND)
async def drafts_kept(target: Target) -> None:
    """Drafts survive a restart.

    Half-typed text in two tabs is back in each tab's composer after ctrl+q and a new start.
    """
    async with data_dir() as directory:
        async with app_run(target, directory) as run:
            run.view().composer.insert("draft for tab one")
            await run.new_tab("codex", connect=False)
            run.view().composer.insert("draft for tab two")
            await run.pilot.pause()
            await run.pilot.press("ctrl+q")
        async with app_run(target, directory) as run:
            drafts = [run.view(i).composer.text for i in range(2)]
            check(
                drafts == ["draft for tab one", "draft for tab two"],
                f"drafts after the restart: {drafts}",
            )


@CHECKLIST.add(
    "session-from-another-device", "docs/protocol.md §1.3, §2.5; seeds' next steps: session list"
)
async def session_from_another_device(target: Target) -> None:
    """A session started on another device continues here.

    Another device (its own device id and data dir) tells Jarvis a code word; this one starts
    with `--session` on that session id: the tab shows both messages, fetched from the
    backend's history when it keeps one, and a follow-up is answered from that context.
    """
    word = code_word()
    async with data_dir() as other, AppRun(other, target.url, target.token, "OTHER-DEVICE") as run:
        await run.connected()
        await run.ask(f"The code word is {word}.")
        session_id = run.tab().session_id
    async with data_dir() as here:
        history = bool((await target.features()).get("session_history"))
        async with AppRun(here, target.url, target.token, open_session=session_id) as run:
            await run.until(
                lambda: run.tab().session_id == session_id, f"session {session_id} to be shown"
            )
            tab = run.tab()
            if history:
                await run.until(lambda: len(tab.messages) == 2, "its two messages from the backend")
                shows(run, len(run.workspace.tabs) - 1, f"The code word is {word}.")
            await run.connected()
            reply = await run.ask("What was the code word?")
            check(word in reply.text, f"the follow-up lost the session's context: {reply.text!r}")
            await listed(target, tab, messages=4)


@CHECKLIST.add(
    "attachment-reaches-the-agent", "docs/protocol.md §1.2 step 5; the iOS app's attachments"
)
async def attachment_reaches_the_agent(target: Target) -> None:
    """Attach a file, send: the agent sees it.

    A text file is attached with ctrl+t (uploaded to `/api/files/upload`), the message goes with
    it in the chat frame's `attachments`; the message on screen lists it, the reply names it,
    and the backend's stored turn carries it (when the backend serves its history).
    """
    word = code_word()
    async with data_dir() as directory, app_run(target, directory) as run:
        await run.connected()
        path = directory / f"notes-{word}.txt"
        path.write_text(f"Shopping list for {word}\nmilk\neggs\n", encoding="utf-8")
        attached = await run.attach(path)
        check(attached.size == path.stat().st_size, f"uploaded {attached.size} bytes")
        reply = await run.ask("What is the file I attached called? Answer with its name.")
        sent = run.tab().messages[-2]
        check(sent.attachments == (attached,), f"the message carries {sent.attachments}")
        log = run.view().log
        log.reveal(sent.msg_id)
        await run.pilot.pause()
        screen = "\n".join(log.render_line(y).text for y in range(log.size.height))
        check(f"📎 {attached.label}" in screen, f"the message on screen lists no file:\n{screen}")
        check(path.name in reply.text, f"the reply does not name the file: {reply.text[:300]}")
        if (await target.features()).get("session_history"):
            history = await fetch_history(target.url, target.token, run.tab().session_id)
            turns = [m for m in history or [] if m.role == "user"]
            stored = turns[-1].metadata.get("attachments") if turns else None
            check(
                isinstance(stored, list) and stored[:1] == [attached.wire()],
                f"the backend's stored turn carries {stored!r}",
            )
