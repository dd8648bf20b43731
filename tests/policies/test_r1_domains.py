"""R1: registrable domains, free e-mail domains, company and contact domains."""

from __future__ import annotations

import socket

import pytest
from publicsuffixlist import PublicSuffixList

from config import load_terms
from policies.domains import (
    FreeEmailDomains,
    company_domain,
    contact_domain,
    registrable_domain,
)
from policies.model import Company, Contact
from policies.reasons import Reason

FREE = FreeEmailDomains(load_terms().domains.free_email_domains)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.Shop.Acme.co.uk/x", "acme.co.uk"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("http://user:pw@acme.com:8080/path?q=1#f", "acme.com"),
        ("ACME.COM.", "acme.com"),
        ("www.acme.com", "acme.com"),
        ("//cdn.acme.io/lib.js", "acme.io"),
    ],
)
def test_r1_1_registrable_domain(raw: str, expected: str) -> None:
    assert registrable_domain(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "localhost",
        "http://localhost:8000",
        "10.0.0.1",
        "[::1]",
        "co.uk",
        "com",
        "acme.notatld",
        "acme .com",
        "http://",
        None,
    ],
)
def test_r1_2_invalid_domains(raw: str | None) -> None:
    assert registrable_domain(raw) is None


def test_r1_1_bundled_psl_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    psl = PublicSuffixList(accept_unknown=False)  # what domains.py builds at import
    assert psl.privatesuffix("a.b.example.co.jp") == "example.co.jp"
    registrable_domain.cache_clear()
    assert registrable_domain("https://shop.example.org") == "example.org"


@pytest.mark.parametrize("domain", ["gmail.com", "gmx.de", "gmx.net", "proton.me"])
def test_r1_2_free_email_domains_including_gmx_wildcard(domain: str) -> None:
    assert domain in FREE


def test_r1_2_gmx_wildcard_does_not_match_lookalikes() -> None:
    assert "gmxx.de" not in FREE
    assert "acme.com" not in FREE


def test_r1_3_company_domain_falls_back_to_website() -> None:
    company = Company("1", domain=None, website="https://www.acme.com/about")
    assert company_domain(company, FREE).domain == "acme.com"
    junk = Company("2", domain="not a domain", website="acme.org")
    assert company_domain(junk, FREE).domain == "acme.org"


def test_r1_3_company_without_domain_is_invalid() -> None:
    assert company_domain(Company("1"), FREE).reason is Reason.INVALID_DOMAIN
    gmail = company_domain(Company("2", domain="gmail.com"), FREE)
    assert gmail == company_domain(Company("2", domain="gmail.com"), FREE)
    assert gmail.reason is Reason.FREE_EMAIL_DOMAIN


def test_r1_3_contact_domain_from_email_or_company() -> None:
    companies = {"c1": Company("c1", domain="acme.com")}
    assert contact_domain(Contact("k", email="Ann@Sales.Beta.io"), companies, FREE).domain == (
        "beta.io"
    )
    free_with_company = Contact("k", email="ann@gmail.com", primary_company_id="c1")
    assert contact_domain(free_with_company, companies, FREE).domain == "acme.com"
    free_alone = contact_domain(Contact("k", email="ann@gmx.at"), companies, FREE)
    assert free_alone.reason is Reason.FREE_EMAIL_DOMAIN
    nothing = contact_domain(Contact("k"), companies, FREE)
    assert nothing.reason is Reason.INVALID_DOMAIN
    only_company = Contact("k", primary_company_id="c1")
    assert contact_domain(only_company, companies, FREE).domain == "acme.com"
