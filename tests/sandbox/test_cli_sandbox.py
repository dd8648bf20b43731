"""``partner-sync sandbox`` as a real subprocess: it serves, checks the token, and stops."""

from __future__ import annotations

import httpx

from sandbox.server import serve_subprocess


def test_cli_sandbox_serves_the_api_with_its_token() -> None:
    with serve_subprocess(token="cli-token", extra_args=["--no-rate-limit"],
                          timeout_s=60) as running:
        ok = httpx.post(running.url + "/crm/v3/objects/companies",
                        headers={"Authorization": "Bearer cli-token"},
                        json={"properties": {"name": "Via CLI"}})
        assert ok.status_code == 201
        assert ok.json()["properties"]["name"] == "Via CLI"
        denied = httpx.get(running.url + "/crm/v3/objects/companies")
        assert denied.status_code == 401
    assert running.process.poll() is not None


def test_cli_sandbox_loads_a_profile_and_applies_its_rate_limit_flag() -> None:
    with serve_subprocess(profile="S", seed=3, token="cli-token",
                          extra_args=["--rate-limit", "2/10s"], timeout_s=120) as running:
        headers = {"Authorization": "Bearer cli-token"}
        members = httpx.post(running.url + "/crm/v3/objects/companies/search", headers=headers,
                             json={"filterGroups": [{"filters": [
                                 {"propertyName": "partner_program_type",
                                  "operator": "HAS_PROPERTY"}]}], "limit": 1})
        answers = [httpx.get(running.url + "/crm/v3/objects/companies?limit=1", headers=headers)
                   for _ in range(3)]
    assert members.json()["total"] == 20  # profile S has 20 members
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["X-HubSpot-RateLimit-Max"] == "2"
