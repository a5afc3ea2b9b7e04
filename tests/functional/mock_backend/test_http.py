"""HTTP endpoints of docs/protocol.md §1.1, on a real server on an ephemeral port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from harness.timing import scaled
from mock_backend import MockBackend
from mock_backend.uploads import MAX_UPLOAD_BYTES
from tests.conftest import TOKEN
from tests.functional.mock_backend.client import ask, open_chat


@pytest.fixture
async def http(backend: MockBackend) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=backend.url, timeout=scaled(30)) as client:
        yield client


def _is_iso(value: str) -> bool:
    datetime.fromisoformat(value)
    return True


async def test_health_shape(backend: MockBackend, http: httpx.AsyncClient) -> None:
    ws = await open_chat(backend, "codex")
    await ask(ws, "hi", "dev-a-codex-1", device_id="dev-a")
    body = (await http.get("/api/health")).json()
    assert (
        body["status"] == "ok" and isinstance(body["version"], str) and _is_iso(body["timestamp"])
    )
    assert body["connections"] == {"claude": 0, "codex": 1}
    assert body["sessions"] == {
        "total": 1,
        "by_agent": {"claude": 0, "codex": 1},
        "by_device": {"dev-a": 1},
    }
    assert body["bridgehub"]["ready"] is True
    await ws.close()


async def test_status_shape(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/status", headers={"X-API-Key": TOKEN})
    body = response.json()
    assert response.status_code == 200
    assert (body["status"], body["health"]) == ("running", "ok")
    assert _is_iso(body["timestamp"]) and isinstance(body["version"], str)
    assert body["features"] and all(isinstance(v, bool) for v in body["features"].values())


async def test_sessions_lists_each_session(backend: MockBackend, http: httpx.AsyncClient) -> None:
    assert (await http.get("/api/sessions")).json() == {"total": 0, "sessions": []}
    ws = await open_chat(backend)
    await ask(ws, "one", "dev-claude-x", device_id="dev")
    await ask(ws, "two", "dev-claude-x", device_id="dev")
    body = (await http.get("/api/sessions")).json()
    assert body["total"] == 1
    (session,) = body["sessions"]
    assert {k: session[k] for k in ("session_id", "agent_type", "device_id", "message_count")} == {
        "session_id": "dev-claude-x",
        "agent_type": "claude",
        "device_id": "dev",
        "message_count": 4,
    }
    assert _is_iso(session["created_at"]) and _is_iso(session["last_activity"])
    await ws.close()


async def test_close_promises_401_404_200(backend: MockBackend, http: httpx.AsyncClient) -> None:
    ws = await open_chat(backend)
    await ask(ws, "Remember the code word ORCHID", "dev-claude-c")
    url = "/api/claude/session/dev-claude-c/close"

    wrong = await http.delete(url, headers={"Authorization": "not-the-token"})
    assert wrong.status_code == 401 and wrong.json()["ok"] is False
    assert (await http.delete(url)).status_code == 401, "no token at all"
    missing = await http.delete(
        "/api/claude/session/nobody/close", headers={"Authorization": TOKEN}
    )
    assert missing.status_code == 404

    closed = await http.delete(url, headers={"Authorization": TOKEN})
    assert closed.status_code == 200
    body = closed.json()
    assert body["ok"] is True and body["session_id"] == "dev-claude-c"
    assert body["process_killed"] is False and isinstance(body["message"], str)

    health = (await http.get("/api/health")).json()
    assert health["sessions"]["total"] == 0, "a closed session leaves the active map"
    assert (await http.get("/api/sessions")).json()["total"] == 0
    again = await http.delete(url, headers={"Authorization": TOKEN})
    assert again.status_code == 404, "already closed"

    reply = await ask(ws, "What was the code word?", "dev-claude-c")
    assert reply.count == 4, "history stayed, the session reopened"
    assert "ORCHID" in reply.text
    await ws.close()


async def test_codex_close_path(backend: MockBackend, http: httpx.AsyncClient) -> None:
    ws = await open_chat(backend, "codex")
    await ask(ws, "hi", "dev-codex-1")
    closed = await http.delete(
        "/api/codex/session/dev-codex-1/close", headers={"Authorization": TOKEN}
    )
    assert closed.status_code == 200 and closed.json()["ok"] is True
    await ws.close()


async def test_upload_and_download(backend: MockBackend, http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/api/files/upload",
        headers={"X-API-Key": TOKEN},
        files={"file": ("notes.txt", b"hello upload", "text/plain")},
        data={"type": "document"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "ok": True,
        "url": f"{backend.url}/uploads/notes.txt",
        "path": "/uploads/notes.txt",
        "filename": "notes.txt",
        "size": 12,
        "type": "document",
    }
    download = await http.get(body["path"])
    assert download.status_code == 200 and download.content == b"hello upload"

    second = await http.post(
        "/api/files/upload",
        headers={"X-API-Key": TOKEN},
        files={"file": ("notes.txt", b"other", "text/plain")},
    )
    assert second.json()["path"] == "/uploads/notes-2.txt", "never replaces an earlier upload"
    assert second.json()["type"] == "unknown"
    assert (await http.get("/uploads/notes.txt")).content == b"hello upload"


async def test_upload_filename_is_cut_to_its_base_name(
    backend: MockBackend, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    for hostile in ("../../x", "..\\..\\x"):
        response = await http.post(
            "/api/files/upload",
            headers={"X-API-Key": TOKEN},
            files={"file": (hostile, b"payload", "text/plain")},
        )
        assert response.status_code == 200
        assert response.json()["filename"] == "x"
    uploads = backend.config.resolved_uploads_dir()
    assert sorted(p.name for p in uploads.iterdir()) == ["x", "x-2"]
    assert not (tmp_path / "x").exists() and not (uploads.parent.parent / "x").exists()
    assert (await http.get("/uploads/..%2F..%2Fx")).status_code == 404


async def test_upload_refusals(http: httpx.AsyncClient) -> None:
    files = {"file": ("a.txt", b"a", "text/plain")}
    unauthorized = await http.post("/api/files/upload", files=files)
    assert unauthorized.status_code == 401
    assert unauthorized.json() == {"ok": False, "error": "Unauthorized"}
    wrong = await http.post("/api/files/upload", files=files, headers={"X-API-Key": "nope"})
    assert wrong.status_code == 401
    no_file = await http.post(
        "/api/files/upload",
        headers={"X-API-Key": TOKEN},
        data={"type": "image"},
        files={"x": ("n", b"")},
    )
    assert no_file.status_code == 400 and no_file.json()["ok"] is False
    not_multipart = await http.post(
        "/api/files/upload", headers={"X-API-Key": TOKEN}, content=b"raw"
    )
    assert not_multipart.status_code == 400


async def test_upload_over_the_limit_is_413_and_leaves_no_file(
    backend: MockBackend, http: httpx.AsyncClient
) -> None:
    big = b"\0" * (MAX_UPLOAD_BYTES + 1)
    response = await http.post(
        "/api/files/upload",
        headers={"X-API-Key": TOKEN},
        files={"file": ("big.bin", big, "application/octet-stream")},
    )
    assert response.status_code == 413
    assert response.json() == {"ok": False, "error": "File too large", "limit": 50_000_000}
    uploads = backend.config.resolved_uploads_dir()
    assert list(uploads.iterdir()) == [], "no partial file kept"
    assert (await http.get("/api/health")).status_code == 200


async def test_unknown_path_and_wrong_method_answer_json(http: httpx.AsyncClient) -> None:
    missing = await http.get("/api/nothing-here")
    assert missing.status_code == 404 and missing.json()["ok"] is False
    wrong = await http.post("/api/health")
    assert wrong.status_code == 405
    assert wrong.json()["allowed"] == ["GET", "HEAD"] or "GET" in wrong.json()["allowed"]
    assert (await http.get("/uploads/never-uploaded.txt")).status_code == 404
    assert (await http.get("/api/claude/session/x/close")).status_code == 405
