"""A tiny Starlette app and an in-process client for the sandbox middleware tests."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class Calls:
    """Counts the requests that reached the inner app."""

    def __init__(self) -> None:
        self.count = 0


def tiny_app(calls: Calls) -> Starlette:
    """Answers 200 JSON on a list path, a search path and a sandbox control-like path."""

    async def answer(request: Request) -> JSONResponse:
        calls.count += 1
        return JSONResponse({"path": request.url.path})

    return Starlette(
        routes=[
            Route("/crm/v3/objects/contacts", answer, methods=["GET", "POST"]),
            Route("/crm/v3/objects/contacts/search", answer, methods=["POST"]),
            Route("/_sandbox/health", answer, methods=["GET"]),
        ]
    )


def client_for(app: object, token: str | None = "tok") -> httpx.AsyncClient:
    """An httpx client calling ``app`` in process, with a bearer token unless None."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://sandbox", headers=headers)
