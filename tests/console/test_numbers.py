"""The console reads numbers as ASCII digits: "²".isdigit() is True but int() refuses it."""

from __future__ import annotations

import httpx

from webhooks.console.data import record_url


async def test_runs_page_takes_a_superscript_limit_as_the_default(
    admin: httpx.AsyncClient,
) -> None:
    answer = await admin.get("/console/runs", params={"limit": "²"})

    assert answer.status_code == 200
    assert "Runs" in answer.text


def test_a_superscript_record_id_gets_no_hubspot_link() -> None:
    assert record_url(62515, "deal", "4²") is None
    assert record_url(62515, "deal", "42") is not None
