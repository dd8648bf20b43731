"""The console's login, session and form protections, over plain HTTP (no browser)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from sync.clock import FixedClock
from tests.console.conftest import csrf_of, log_in
from tests.webhooks.conftest import ADMIN_TOKEN, FakeEngine
from webhooks.app import ServeParts
from webhooks.console.session import COOKIE


async def get_with_cookie(client: httpx.AsyncClient, value: str, path: str = "/console/"
                          ) -> httpx.Response:
    """``path`` fetched by a separate browser whose only cookie is ``value``."""
    async with httpx.AsyncClient(transport=client._transport, base_url=client.base_url,
                                 headers={"Cookie": f"{COOKIE}={value}"}) as other:
        return await other.get(path)


PAGES = ["/console/", "/console/runs", "/console/runs/1", "/console/members",
         "/console/payouts", "/console/portals"]


@pytest.mark.parametrize("page", PAGES)
async def test_every_page_without_a_session_redirects_to_login(
    client: httpx.AsyncClient, page: str
) -> None:
    answer = await client.get(page)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/login?next=")


async def test_wrong_token_is_refused_with_a_message_and_counted(
    client: httpx.AsyncClient, parts: ServeParts
) -> None:
    def failures() -> float:
        value = parts.metrics.registry.get_sample_value(
            "partner_sync_console_login_failures_total")
        return value or 0.0

    answer = await log_in(client, token="not-the-token")
    assert answer.status_code == 401
    assert "Wrong admin token." in answer.text
    assert failures() == 1.0
    assert (await client.get("/console/")).status_code == 303  # still not logged in
    assert (await log_in(client)).status_code == 303
    assert failures() == 1.0


async def test_login_rotates_the_session_id_so_a_planted_cookie_never_logs_in(
    client: httpx.AsyncClient,
) -> None:
    form = await client.get("/console/login")
    planted = client.cookies[COOKIE]  # what an attacker could have set for the victim
    answer = await client.post("/console/login", data={
        "csrf": csrf_of(form.text), "token": ADMIN_TOKEN, "next": "/console/"})
    assert answer.status_code == 303
    issued = client.cookies[COOKIE]
    assert issued != planted
    assert (await get_with_cookie(client, planted)).status_code == 303
    assert (await client.get("/console/")).status_code == 200


async def test_a_tampered_or_foreign_cookie_is_no_session(admin: httpx.AsyncClient) -> None:
    good = admin.cookies[COOKIE]
    payload, _, signature = good.rpartition(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    for bad in (f"{flipped}.{signature}", f"{payload}.{signature[::-1]}", "garbage", ""):
        assert (await get_with_cookie(admin, bad)).status_code == 303, bad
    assert (await get_with_cookie(admin, good)).status_code == 200


async def test_a_session_expires(
    admin: httpx.AsyncClient, clock: FixedClock, parts: ServeParts
) -> None:
    assert (await admin.get("/console/")).status_code == 200
    clock.advance(timedelta(minutes=parts.settings.console.session_minutes - 1))
    assert (await admin.get("/console/")).status_code == 200
    clock.advance(timedelta(minutes=2))
    answer = await admin.get("/console/")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/login")


async def test_logout_ends_the_session_even_for_a_copy_of_the_cookie(
    admin: httpx.AsyncClient,
) -> None:
    copy = admin.cookies[COOKIE]
    page = await admin.get("/console/")
    answer = await admin.post("/console/logout", data={"csrf": csrf_of(page.text)})
    assert answer.status_code == 303
    assert COOKIE not in admin.cookies
    assert (await get_with_cookie(admin, copy)).status_code == 303


async def test_the_cookie_is_httponly_samesite_strict_and_expires(
    client: httpx.AsyncClient,
) -> None:
    answer = await log_in(client)
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "max-age=" in cookie
    assert "path=/console" in cookie


async def test_forms_without_the_csrf_token_are_refused(
    admin: httpx.AsyncClient, engine: FakeEngine
) -> None:
    for data in ({"scope": "all"}, {"scope": "all", "csrf": "forged"}):
        answer = await admin.post("/console/actions/resync", data=data)
        assert answer.status_code == 403
        assert "Form refused" in answer.text
    assert (await admin.post("/console/logout", data={})).status_code == 403
    assert (await admin.post("/console/dead-letters/1/retry", data={})).status_code == 403
    assert engine.calls == []
    assert (await admin.get("/console/")).status_code == 200  # still logged in


async def test_login_form_without_its_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/console/login")
    answer = await client.post("/console/login", data={"token": ADMIN_TOKEN})
    assert answer.status_code == 403
    assert (await client.get("/console/")).status_code == 303


async def test_the_token_is_never_rendered(admin: httpx.AsyncClient) -> None:
    bodies = [(await admin.get(p)).text for p in PAGES]
    bodies.append((await admin.get("/docs")).text)
    async with httpx.AsyncClient(transport=admin._transport, base_url=admin.base_url) as other:
        form = await other.get("/console/login")
        bodies.append(form.text)
        bodies.append((await other.post("/console/login", data={
            "csrf": csrf_of(form.text), "token": ADMIN_TOKEN + "x"})).text)
    assert all(ADMIN_TOKEN not in body for body in bodies)
    assert ADMIN_TOKEN not in admin.cookies[COOKIE]


@pytest.mark.parametrize("page", ["/console/login", "/console/", "/console/members", "/docs"])
async def test_secure_headers_forbid_framing_and_remote_sources(
    admin: httpx.AsyncClient, page: str
) -> None:
    fresh = page == "/console/login"  # a logged-in visitor is sent on from the login form
    answer = await (get_with_cookie(admin, "", page) if fresh else admin.get(page))
    assert answer.status_code == 200
    csp = answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'none'" in csp
    for remote_or_inline in ("http", "*", "unsafe"):
        assert remote_or_inline not in csp


async def test_login_only_returns_to_console_pages(client: httpx.AsyncClient) -> None:
    form = await client.get("/console/login?next=https://evil.example/")
    assert "evil" not in form.text
    answer = await client.post("/console/login", data={
        "csrf": csrf_of(form.text), "token": ADMIN_TOKEN, "next": "//evil.example/x"})
    assert answer.headers["location"] == "/console/"


async def test_without_an_admin_token_nobody_logs_in(
    client: httpx.AsyncClient, parts: ServeParts
) -> None:
    del parts
    answer = await log_in(client, token="")
    assert answer.status_code == 401
