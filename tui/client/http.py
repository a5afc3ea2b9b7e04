"""The close call (`DELETE …/session/{id}/close`), with the raw token in `Authorization`."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from tui.client.frames import Provider, close_url


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
    wait: float = 10.0,
) -> CloseResult:
    url = close_url(base_url, provider, session_id)
    own = client is None
    http = client or httpx.AsyncClient(timeout=wait)
    try:
        response = await http.delete(url, headers={"Authorization": token})
    except httpx.HTTPError as exc:
        return CloseResult(False, None, f"could not reach the backend to close the session ({exc})")
    finally:
        if own:
            await http.aclose()
    match response.status_code:
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
