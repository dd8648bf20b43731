"""`doctor` accepts an http public URL on this machine (the sandbox delivers there) and still
refuses http anywhere else (HubSpot posts to https only)."""

from __future__ import annotations

import pytest

from cli.doctor import is_loopback_url, webhook_checks
from config.settings import Settings


def _hooks(public_url: str) -> list[tuple[str, str]]:
    settings = Settings(webhooks={"client_secret": "s" * 16, "public_url": public_url},
                        admin={"token": "a" * 16})
    return [(c.name, c.status) for c in webhook_checks(settings)]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/webhooks/hubspot",
                                 "http://localhost:8000/webhooks/hubspot",
                                 "http://[::1]:8000/webhooks/hubspot",
                                 "https://sync.example.com/webhooks/hubspot"])
def test_loopback_http_and_https_are_ok(url: str) -> None:
    assert _hooks(url) == [("webhooks", "ok")]


@pytest.mark.parametrize("url", ["http://sync.example.com/webhooks/hubspot",
                                 "http://localhost.example.com/hooks",
                                 "http://10.0.0.5:8000/hooks"])
def test_http_elsewhere_fails(url: str) -> None:
    assert _hooks(url) == [("webhook URL", "fail")]
    assert not is_loopback_url(url)
