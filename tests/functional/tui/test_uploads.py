"""Uploads against the mock backend on an ephemeral port (real sockets), and the answers a
backend may give that the mock does not (respx)."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
import respx

from mock_backend import MockBackend
from tests.conftest import TOKEN, url_of
from tui.client.uploads import UPLOAD_LIMIT, UploadError, upload


async def test_a_file_is_uploaded_with_progress_and_served_back(
    backend: MockBackend, tmp_path: Path
) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"x" * 700_000)
    progress: list[tuple[int, int]] = []
    attached = await upload(
        backend.url, TOKEN, path, on_progress=lambda sent, total: progress.append((sent, total))
    )
    assert (attached.filename, attached.size, attached.mime_type) == (
        "notes.txt",
        700_000,
        "text/plain",
    )
    assert attached.type == "document" and attached.url.startswith(backend.url + "/uploads/")
    assert progress[0] == (0, 700_000) and progress[-1] == (700_000, 700_000)
    assert len(progress) >= 4, "progress comes a chunk at a time"
    async with httpx.AsyncClient() as http:
        served = await http.get(attached.url)
    assert served.content == path.read_bytes()


async def test_an_image_is_typed_as_one_and_an_odd_name_survives(
    backend: MockBackend, tmp_path: Path
) -> None:
    path = tmp_path / 'shot "1" été.png'
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    attached = await upload(backend.url, TOKEN, path)
    assert attached.type == "image" and attached.mime_type == "image/png"
    assert "été" in attached.filename


async def test_a_wrong_token_says_how_to_fix_it(backend: MockBackend, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("a")
    with pytest.raises(UploadError) as refused:
        await upload(backend.url, "wrong", path)
    assert refused.value.status == 401
    assert "--token" in str(refused.value) and "BUILDEROS_TOKEN" in str(refused.value)


async def test_a_file_past_the_limit_is_refused_before_a_byte_is_sent(tmp_path: Path) -> None:
    path = tmp_path / "huge.iso"
    with path.open("wb") as out:
        out.truncate(UPLOAD_LIMIT + 1)  # sparse: no 50 MB written
    with respx.mock(assert_all_called=False) as router:
        route = router.post("http://h:1/api/files/upload")
        with pytest.raises(UploadError) as refused:
            await upload("http://h:1", TOKEN, path)
    assert not route.called
    assert refused.value.status == 413 and "50.0 MB" in str(refused.value)


@respx.mock
async def test_a_backend_with_a_lower_limit_is_quoted(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"a" * 2000)
    respx.post("http://h:1/api/files/upload").respond(
        413, json={"ok": False, "error": "File too large", "limit": 1000}
    )
    with pytest.raises(UploadError, match=r"a.bin \(2.0 KB\) is too large: .* up to 1.0 KB"):
        await upload("http://h:1", TOKEN, path)


@respx.mock
async def test_an_answer_that_is_not_json_is_an_error_with_the_status(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("a")
    respx.post("http://h:1/api/files/upload").respond(502, text="<html>Bad gateway</html>")
    with pytest.raises(UploadError, match="answered 502") as failed:
        await upload("http://h:1", TOKEN, path)
    assert failed.value.status == 502


@respx.mock
async def test_a_relative_url_in_the_answer_is_made_absolute(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("a")
    respx.post("http://h:1/base/api/files/upload").respond(
        200, json={"ok": True, "url": "/uploads/a.txt", "filename": "a.txt", "size": 1}
    )
    attached = await upload("http://h:1/base", TOKEN, path)
    assert attached.url == "http://h:1/base/uploads/a.txt"


async def test_nothing_listening_is_named(refusing_socket: socket.socket, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("a")
    with pytest.raises(UploadError, match="cannot reach"):
        await upload(url_of(refusing_socket), TOKEN, path)


async def test_a_missing_file_or_a_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(UploadError, match="is not a file"):
        await upload("http://h:1", TOKEN, tmp_path / "gone.txt")
    with pytest.raises(UploadError, match="is not a file"):
        await upload("http://h:1", TOKEN, tmp_path)
