"""``GET /account-info/v3/details``: the portal's account details (``portalId`` and the rest)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.http import context, json_response

__all__ = ["account_routes"]


async def _details(request: Request) -> Response:
    portal_id = context(request).state.portal_id
    return json_response({
        "portalId": portal_id, "accountType": "STANDARD", "timeZone": "UTC",
        "companyCurrency": "USD", "additionalCurrencies": [], "utcOffset": "+00:00",
        "utcOffsetMilliseconds": 0, "uiDomain": "app.hubspot.com",
        "dataHostingLocation": "na1",
    })


def account_routes() -> list[Route]:
    return [Route("/account-info/v3/details", _details, methods=["GET"])]
