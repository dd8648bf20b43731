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
