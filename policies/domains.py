"""R1: registrable domains, free e-mail domains, and the domain of a company or a contact.

The Public Suffix List is the copy bundled with the ``publicsuffixlist`` package (read from its
package directory once, never fetched). Parsing is cached: it is the engine's hot path.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import idna
from publicsuffixlist import PublicSuffixList

from policies.model import Company, Contact
from policies.reasons import Reason

__all__ = [
    "CompanyDomains",
    "DomainResolution",
    "FreeEmailDomains",
    "company_domain",
    "company_domains",
    "contact_domain",
    "email_domain",
    "registrable_domain",
]

# accept_unknown=False: a name under a TLD the PSL does not know is one "the PSL cannot split".
_PSL = PublicSuffixList(accept_unknown=False)


@dataclass(frozen=True, slots=True)
class DomainResolution:
    """A resolved domain, or ``None`` with its R1 reason (invalid or free e-mail domain)."""

    domain: str | None
    reason: Reason = Reason.NONE


# resolutions without a domain carry nothing else: shared rather than built per record
_INVALID = DomainResolution(None, Reason.INVALID_DOMAIN)
_FREE = DomainResolution(None, Reason.FREE_EMAIL_DOMAIN)


class FreeEmailDomains:
    """R1.2: the configured free e-mail domains; an entry ``name.*`` matches any suffix."""

    __slots__ = ("_exact", "_prefixes")

    def __init__(self, entries: Iterable[str]) -> None:
        exact: set[str] = set()
        prefixes: list[str] = []
        for raw in entries:
            entry = raw.strip().lower()
            if entry.endswith(".*"):
                prefixes.append(entry[:-1])  # "gmx.*" -> "gmx."
            elif entry:
                exact.add(entry)
        self._exact = frozenset(exact)
        self._prefixes = tuple(prefixes)

    def __contains__(self, domain: object) -> bool:
        if not isinstance(domain, str):
            return False
        return domain in self._exact or domain.startswith(self._prefixes)


def _host_of(raw: str) -> str | None:
    """Strip scheme, user info, path, query, port and a trailing dot; ``None`` for IPv6/space."""
    text = raw.strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    elif text.startswith("//"):
        text = text[2:]
    # each cut below is a no-op when its character is absent (most inputs are bare hosts)
    for sep in "/?#":
        if sep in text:
            text = text.split(sep, 1)[0]
    if "@" in text:
        text = text.rsplit("@", 1)[-1]
    if ":" in text or "[" in text:
        if text.startswith("[") or text.count(":") > 1:
            return None  # an IPv6 literal is never registrable
        text = text.split(":", 1)[0]
    text = text.rstrip(".")
    # split() cuts at exactly the characters isspace() names: one piece equal to the text
    # means it is non-empty and has no white space (a per-character test is the slow way)
    if text.split() != [text]:
        return None
    return text


def _is_ip(host: str) -> bool:
    """An IPv4 literal (the host has no ``:``, so never IPv6): only ASCII digits and dots."""
    if not host.replace(".", "").isdigit():
        return False  # skips ip_address's raise-and-catch for the common case of a name
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1 << 18)
def registrable_domain(raw: str | None) -> str | None:
    """R1.1/R1.2: the registrable domain of a URL, host or e-mail domain, or ``None`` if invalid.

    Lower-case, punycode (``bücher.de`` -> ``xn--bcher-kva.de``), public suffix + one label
    (``https://www.Shop.Acme.co.uk/x`` -> ``acme.co.uk``). IPs, ``localhost``, bare public
    suffixes and names under unknown suffixes give ``None``. Never raises.
    """
    if not raw:
        return None
    host = _host_of(raw)
    if host is None or host == "localhost":
        return None
    if host.startswith("www."):
        host = host[4:]
    if _is_ip(host):
        return None
    try:
        ascii_host = host if host.isascii() else idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        return None
    found = _PSL.privatesuffix(ascii_host)
    return found if isinstance(found, str) else None


def email_domain(email: str | None) -> str | None:
    """The registrable domain after the last ``@`` of an e-mail address, or ``None``."""
    if not email or "@" not in email:
        return None
    return registrable_domain(email.rsplit("@", 1)[1])


def company_domains(company: Company) -> tuple[str, ...]:
    """Every distinct registrable domain a company names (``domain`` first, then ``website``)."""
    found = (registrable_domain(company.domain), registrable_domain(company.website))
    return tuple(dict.fromkeys(d for d in found if d is not None))


def company_domain(company: Company, free: FreeEmailDomains) -> DomainResolution:
    """R1.3: the company's ``domain`` property, falling back to ``website``.

    [decision R1.3] The fallback also applies when ``domain`` is set but unparseable: a junk
    ``domain`` value should not hide a good website.
    """
    domain = registrable_domain(company.domain) or registrable_domain(company.website)
    if domain is None:
        return _INVALID
    if domain in free:
        return _FREE
    return DomainResolution(domain)


def contact_domain(
    contact: Contact, companies: Mapping[str, Company], free: FreeEmailDomains
) -> DomainResolution:
    """R1.3: the e-mail's domain; for a free e-mail domain, the primary company's domain.

    A free e-mail without a usable company gives ``free_email_domain``. [decision R1.3] A
    contact without a usable e-mail uses its primary company's domain; with neither:
    ``invalid_domain``.
    """
    company = companies.get(contact.primary_company_id) if contact.primary_company_id else None
    return _contact_domain(
        contact, free, None if company is None else company_domain(company, free)
    )


def _contact_domain(
    contact: Contact,
    free: FreeEmailDomains,
    company_resolution: DomainResolution | None,
) -> DomainResolution:
    """``contact_domain`` given the primary company's resolution, if there is a company."""
    own = email_domain(contact.email)
    if own is not None and own not in free:
        return DomainResolution(own)
    if company_resolution is not None:
        resolved = company_resolution
        if resolved.domain is not None:
            return resolved
    if own is not None:
        return _FREE
    return _INVALID


class CompanyDomains:
    """R1.3 for every company of one evaluation, each company resolved at most once.

    Answers exactly what ``company_domain``/``company_domains``/``contact_domain`` answer for
    the companies of ``companies`` (keyed by company id); the evaluation asks about the same
    company for its requests, its domain facts, its contacts and its deals.
    """

    __slots__ = ("_companies", "_free", "_resolved")

    def __init__(self, companies: Mapping[str, Company], free: FreeEmailDomains) -> None:
        self._companies = companies
        self._free = free
        # company id -> its domain, or the shared resolution without one: a plain string keeps
        # no object per company alive for the whole evaluation
        self._resolved: dict[str, str | DomainResolution] = {}

    def of(self, company: Company) -> DomainResolution:
        """``company_domain(company, free)``, cached by company id."""
        found = self._resolved.get(company.company_id)
        if found is None:
            found = self._resolve(company)
        return DomainResolution(found) if isinstance(found, str) else found

    def domain(self, company: Company) -> str | None:
        """``of(company).domain``, without building a resolution."""
        found = self._resolved.get(company.company_id)
        if found is None:
            found = self._resolve(company)
        return found if isinstance(found, str) else None

    def reason(self, company: Company) -> Reason:
        """``of(company).reason``: why the company has no domain (``Reason.NONE`` if it has)."""
        return self.of(company).reason

    def _resolve(self, company: Company) -> str | DomainResolution:
        resolution = company_domain(company, self._free)
        found = resolution if resolution.domain is None else resolution.domain
        self._resolved[company.company_id] = found
        return found

    def all_of(self, company: Company) -> tuple[str, ...]:
        """``company_domains(company)`` (its parts are cached by ``registrable_domain``)."""
        return company_domains(company)

    def contact(self, contact: Contact) -> DomainResolution:
        """``contact_domain(contact, companies, free)`` with the company's answer cached."""
        cid = contact.primary_company_id
        company = self._companies.get(cid) if cid else None
        return _contact_domain(contact, self._free, None if company is None else self.of(company))
