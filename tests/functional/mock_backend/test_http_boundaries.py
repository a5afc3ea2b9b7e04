"""Hostile or broken HTTP requests get a clear JSON answer, never a 500: non-UTF-8 tokens,
malformed multipart bodies, a foreign Host header; uploads are never served as pages."""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mock_backend import MockBackend
from tests.conftest import TOKEN, BackendFactory
from tests.functional.mock_backend.client import ask, open_chat


@pytest.fixture
async def http(backend: MockBackend) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=backend.url) as client:
        yield client


async def test_a_token_that_is_not_utf8_is_a_wrong_token(http: httpx.AsyncClient) -> None:
    upload = await http.post(
        "/api/files/upload", headers={b"X-API-Key": b"\xff\xfe"}, files={"file": ("a", b"x")}
    )
    close = await http.delete("/api/claude/session/s/close", headers={b"Authorization": b"\xff"})
    for answer in (upload, close):
        assert answer.status_code == 401 and answer.json()["error"] == "Unauthorized"


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"Content-Type": "multipart/form-data"}, b"--x\r\n\r\n"),  # no boundary
        ({"Content-Type": "multipart/form-data; boundary=b"}, b"--b\r\nbroken"),
    ],
)
async def test_a_malformed_multipart_body_is_a_400(
    http: httpx.AsyncClient, headers: dict[str, str], body: bytes
) -> None:
    answer = await http.post(
        "/api/files/upload", headers={"X-API-Key": TOKEN, **headers}, content=body
    )
    assert answer.status_code == 400 and answer.json()["ok"] is False


async def test_a_huge_filename_is_a_400_and_a_nested_multipart_is_no_file(
    http: httpx.AsyncClient,
) -> None:
    long_name = await http.post(
        "/api/files/upload",
        headers={"X-API-Key": TOKEN},
        files={"file": ("n" * 10_000 + ".txt", b"x")},
    )
    assert long_name.status_code == 400 and "Malformed" in long_name.json()["error"]
    inner = b"--in\r\nContent-Disposition: form-data; name=file; filename=a\r\n\r\nx\r\n--in--\r\n"
    nested = (
        b"--out\r\nContent-Disposition: form-data; name=file\r\n"
        b"Content-Type: multipart/mixed; boundary=in\r\n\r\n" + inner + b"\r\n--out--\r\n"
    )
    answer = await http.post(
        "/api/files/upload",
        headers={"X-API-Key": TOKEN, "Content-Type": "multipart/form-data; boundary=out"},
        content=nested,
    )
    assert answer.status_code == 400 and answer.json()["error"] == "Missing 'file' part"


@pytest.mark.parametrize(
    ("name", "disposition", "kind"),
    [
        ("page.html", "attachment", "application/octet-stream"),
        ("logo.svg", "attachment", "application/octet-stream"),
        ("app.js", "attachment", "application/octet-stream"),
        ("photo.png", "inline", "image/png"),
    ],
)
async def test_uploads_are_never_served_as_pages(
    http: httpx.AsyncClient, name: str, disposition: str, kind: str
) -> None:
    stored = await http.post(
        "/api/files/upload", headers={"X-API-Key": TOKEN}, files={"file": (name, b"<b>x</b>")}
    )
    served = await http.get(stored.json()["path"])
    assert served.headers["content-disposition"].startswith(disposition)
    assert served.headers["content-type"] == kind
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in served.headers["content-security-policy"]


async def test_a_foreign_host_is_refused_and_the_upload_url_is_our_own(
    backend: MockBackend, http: httpx.AsyncClient
) -> None:
    for path in ("/api/sessions", "/api/health", "/uploads/x"):
        answer = await http.get(path, headers={"Host": "rebound.evil.example"})
        assert answer.status_code == 403 and answer.json()["error"] == "Host not allowed"
    stored = await http.post(
        "/api/files/upload",
        headers={"X-API-Key": TOKEN, "Host": "localhost"},
        files={"file": ("a.txt", b"x")},
    )
    assert stored.json()["url"].startswith(backend.url + "/uploads/")


async def test_an_allowed_lan_name_is_answered(start_backend: BackendFactory) -> None:
    backend = await start_backend(allowed_hosts=("my-mac.local",))
    async with httpx.AsyncClient(base_url=backend.url) as http:
        answer = await http.get("/api/health", headers={"Host": "my-mac.local:8080"})
    assert answer.status_code == 200


async def test_the_mock_writes_private_files_whatever_the_umask(
    start_backend: BackendFactory, tmp_path: Path
) -> None:
    old = os.umask(0)
    try:
        backend = await start_backend(db_path=tmp_path / "fresh" / "sessions.db")
        async with httpx.AsyncClient(base_url=backend.url) as http:
            stored = await http.post(
                "/api/files/upload", headers={"X-API-Key": TOKEN}, files={"file": ("a", b"x")}
            )
    finally:
        os.umask(old)
    root = tmp_path / "fresh"
    upload = root / "uploads" / stored.json()["path"].rsplit("/", 1)[1]
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (root, root / "uploads", upload)}
    assert modes == {"fresh": 0o700, "uploads": 0o700, upload.name: 0o600}
    assert stat.S_IMODE((root / "sessions.db").stat().st_mode) == 0o600


async def test_a_damaged_database_is_reported_by_health_and_turns_still_work(
    start_backend: BackendFactory, tmp_path: Path
) -> None:
    path = tmp_path / "damaged" / "sessions.db"
    first = await start_backend(db_path=path)
    client = await open_chat(first)
    for n in range(40):
        assert (await ask(client, f"fill {n} " + "words " * 200, "filler")).ok
    await client.close()
    await first.stop()
    pages = path.stat().st_size // 4096
    with path.open("r+b") as db:  # a few whole pages overwritten, as a disk error would
        for page in range(pages // 2, pages // 2 + 3):
            db.seek(page * 4096)
            db.write(os.urandom(4096))
    backend = await start_backend(db_path=path)
    async with httpx.AsyncClient(base_url=backend.url) as http:
        health = (await http.get("/api/health")).json()
    assert health["status"] == "ok" and health["storage"]["ok"] is False
    assert "damaged" in health["storage"]["problems"][0]
    client = await open_chat(backend)
    assert (await ask(client, "hello", "after-damage")).ok
    await client.close()
