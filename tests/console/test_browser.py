"""The console in a real browser (headless Chromium through Playwright) against a serve process
running the real engine over a sandbox: log in, read the overview's numbers, open a run and its
data problems, resync a member and land on the new run, log out; no session means the login
form; a form without its CSRF token is refused. Screenshots of every page go to the test's temp
folder (``PARTNER_SYNC_SCREENSHOTS`` names another folder to keep them)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from cli.runtime import build_runtime
from cli.serve import ServerThread, build_parts
from config.settings import Settings
from sandbox.config import RateLimitConfig, SandboxConfig
from sandbox.server import serve_in_thread
from sandbox.state import SandboxState
from sync.clock import FixedClock, SystemClock
from tests.console.browser import chromium
from tests.engine.seed import C, Seed

pytestmark = pytest.mark.slow

TOKEN = "browser-admin-token-42"
PORTAL = 62515


@dataclass
class Served:
    url: str
    first_run: int
    shots: Path


def _seed() -> Seed:
    seed = Seed()
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com",
                **{C.paperwork_completed_at: "2023-02-01", "name": "Partner One"})
    seed.member("V1", "provider", date(2023, 3, 1), "v1.example.com", name="Provider One")
    acme = seed.prospect("acme.com", by="P1", at=date(2024, 1, 10))
    seed.prospect("globex.com", by="P1", at=date(2024, 2, 1))
    seed.prospect("initech.com", by="NOBODY", at=date(2024, 2, 1))  # a data problem
    deal = seed.deal(acme, closed=date(2024, 2, 20), created=date(2024, 2, 1))
    seed.subscription(deal, "500", date(2024, 3, 1))
    return seed


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("console-browser")
    shots = Path(os.environ.get("PARTNER_SYNC_SCREENSHOTS") or tmp / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    config = SandboxConfig(rate_limits=RateLimitConfig(enabled=False))
    with serve_in_thread(config, SandboxState()) as sandbox:
        sandbox.state.bulk_load(_seed().dataset())
        settings = Settings(
            hubspot={"access_token": SecretStr("sandbox-token"), "base_url": sandbox.url,
                     "rate_limit_per_10s": 1000, "search_per_s": 50},
            store={"url": f"sqlite:///{tmp / 'serve.db'}"},
            admin={"token": TOKEN}, scheduler={"enabled": True},
            console={"portal_id": PORTAL},
        )
        runtime = build_runtime(settings, clock=FixedClock(datetime(2024, 6, 1, 12, tzinfo=UTC)))
        try:
            first = runtime.engine.full_sync(trigger="cli")
            assert first.status == "ok"
            parts = build_parts(runtime, clock=SystemClock(), worker=False)
            with ServerThread(parts) as server:
                yield Served(server.url, first.run_id, shots)
        finally:
            runtime.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def _log_in(page: Any, served: Served) -> None:
    page.goto(served.url + "/console/")
    assert "/console/login" in page.url  # no session: the login form
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(served.url + "/console/")


def test_log_in_read_the_overview_open_a_run_resync_a_member_log_out(
    browser: Any, served: Served
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(served.url + "/console/login")
    page.fill("#token", "wrong-token")
    page.click("button[type=submit]")
    assert page.locator("p.error").inner_text() == "Wrong admin token."
    page.screenshot(path=served.shots / "login-refused.png")

    _log_in(page, served)
    assert page.locator("#inbox-depth").inner_text() == "0"
    assert page.locator("#dead-count").inner_text() == "0"
    assert f"#{served.first_run} ok" in page.locator(".card").first.inner_text()
    assert page.locator("figure.chart svg rect").count() >= 1  # API calls of the full sync
    for job in ("full", "incremental", "reevaluate"):
        assert page.locator("#jobs").get_by_role("cell", name=job, exact=True).count() == 1
    page.screenshot(path=served.shots / "overview.png", full_page=True)

    link = page.locator("table.runs a").filter(has_text=f"#{served.first_run}")
    assert link.get_attribute("href") == f"/console/runs/{served.first_run}"
    link.click()
    page.wait_for_url(f"**/console/runs/{served.first_run}")
    problem = page.locator("table.problems tbody tr").first
    assert "unknown_partner_code" in problem.inner_text()
    href = problem.locator("a").get_attribute("href")
    assert re.fullmatch(rf"https://app\.hubspot\.com/contacts/{PORTAL}/record/0-2/\d+", href)
    assert int(page.locator("#counts tr:has-text('companies') td").nth(1).inner_text()) >= 5
    page.screenshot(path=served.shots / "run.png", full_page=True)

    page.click("nav >> text=Members")
    rows = page.locator("table.members tbody tr")
    assert rows.count() == 2
    p1 = rows.filter(has_text="P1")
    assert "partner" in p1.inner_text()
    assert "USD" in p1.inner_text()  # commission from the closed deal's subscription
    page.screenshot(path=served.shots / "members.png", full_page=True)
    page.goto(served.url + "/console/members?type=provider")
    assert page.locator("table.members tbody tr").count() == 1

    page.goto(served.url + "/console/members")
    page.locator("table.members tbody tr").filter(has_text="P1").locator("button").click()
    page.wait_for_url(re.compile(r".*/console/runs/\d+$"))
    new_run = int(page.url.rsplit("/", 1)[1])
    assert new_run > served.first_run
    assert "admin" in page.locator("dl.facts").inner_text()
    page.screenshot(path=served.shots / "member-resync-run.png", full_page=True)

    page.click("nav >> text=Payouts")
    assert page.locator("figure.chart svg rect").count() >= 1
    assert "P1" in page.locator("table.payouts").inner_text()
    page.screenshot(path=served.shots / "payouts.png", full_page=True)
    page.click("nav >> text=Member portals")
    assert "No member portals connected." in page.content()
    page.screenshot(path=served.shots / "portals.png", full_page=True)
    page.click("nav >> text=Runs")
    assert page.locator(f"table.runs a:text-is('#{new_run}')").count() == 1
    page.screenshot(path=served.shots / "runs.png", full_page=True)

    page.click("nav >> text=Overview")
    assert page.locator("table.runs tbody tr").count() == 2
    page.screenshot(path=served.shots / "overview-after-resync.png", full_page=True)

    page.click("header button:text('Log out')")
    page.wait_for_url(served.url + "/console/login")
    page.goto(served.url + "/console/members")
    assert "/console/login" in page.url
    context.close()


def test_a_form_without_its_csrf_token_is_refused(browser: Any, served: Served) -> None:
    context = browser.new_context()
    page = context.new_page()
    _log_in(page, served)
    runs_before = page.locator("table.runs tbody tr").count()
    answer = context.request.post(served.url + "/console/actions/resync",
                                  form={"scope": "all"}, max_redirects=0)
    assert answer.status == 403
    assert "Form refused" in answer.text()
    page.reload()
    assert page.locator("table.runs tbody tr").count() == runs_before
    context.close()


def test_docs_work_offline(browser: Any, served: Served) -> None:
    context = browser.new_context(offline=False)
    page = context.new_page()
    remote: list[str] = []
    page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(served.url)
            else None)
    page.goto(served.url + "/docs")
    assert page.locator("h1").inner_text().startswith("partner-sync API")
    assert page.locator("a[href='#post-/admin/resync']").count() == 1
    assert remote == []
    page.screenshot(path=served.shots / "docs.png", full_page=True)
    context.close()
