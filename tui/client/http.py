"""The close call (`DELETE …/session/{id}/close`), with the raw token in `Authorization`.

Whatever the backend does, the answer is a `CloseResult`: the call has a total deadline, only
the status is read (never the body), and any failure of the request itself, odd ids and URLs
included, is a result with the reason, never an exception.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from tui.client.frames import Provider, close_url

DEADLINE = 10.0
"""Seconds the close call may take, from connecting to the status line."""


@dataclass(frozen=True)
class CloseResult:
    closed: bool
    """True for 200 and 404: either way the session is gone on the server."""
    status: int | None
    message: str


async def close_session(
    base_url: str,
    token: str,
    provider: Provider,
    session_id: str,
    *,
    client: httpx.AsyncClient | None = None,
    wait: float = DEADLINE,
) -> CloseResult:
    try:
        url = close_url(base_url, provider, session_id)
    except ValueError as exc:
        return CloseResult(False, None, f"the session was not closed: {exc}")
    try:
        async with asyncio.timeout(wait):
            status = await _status(url, token, client, wait)
    except TimeoutError:
        return CloseResult(
            False, None, f"the backend did not answer the close request ({url}) within {wait:g} s"
        )
    except Exception as exc:  # httpx raises more than HTTPError for odd input
        return CloseResult(
            False,
            None,
            f"could not reach the backend to close the session ({exc.__class__.__name__}: {exc})",
        )
    match status:
        case 200:
            return CloseResult(True, 200, "session closed on the backend")
        case 404:
            return CloseResult(True, 404, "the backend had already let the session go")
        case 401:
            return CloseResult(
                False, 401, "the backend refused the token (401): session not closed"
            )
        case code:
            return CloseResult(False, code, f"the backend answered {code} to the close request")


async def _status(url: str, token: str, client: httpx.AsyncClient | None, wait: float) -> int:
    """The answer's status; its body is left unread (a close answer needs none)."""
    http = client or httpx.AsyncClient(timeout=wait)
    try:
        async with http.stream("DELETE", url, headers={"Authorization": token}) as response:
            return response.status_code
    finally:
        if client is None:
            await http.aclose()
