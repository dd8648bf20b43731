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
    for sep in "/?#":
        text = text.split(sep, 1)[0]
    text = text.rsplit("@", 1)[-1]
    if text.startswith("[") or text.count(":") > 1:
        return None  # an IPv6 literal is never registrable
    text = text.split(":", 1)[0].rstrip(".")
    if not text or any(c.isspace() for c in text):
        return None
    return text


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
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
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
        return DomainResolution(None, Reason.INVALID_DOMAIN)
    if domain in free:
        return DomainResolution(None, Reason.FREE_EMAIL_DOMAIN)
    return DomainResolution(domain)


def contact_domain(
    contact: Contact, companies: Mapping[str, Company], free: FreeEmailDomains
) -> DomainResolution:
    """R1.3: the e-mail's domain; for a free e-mail domain, the primary company's domain.

    A free e-mail without a usable company gives ``free_email_domain``. [decision R1.3] A
    contact without a usable e-mail uses its primary company's domain; with neither:
    ``invalid_domain``.
    """
    own = email_domain(contact.email)
    if own is not None and own not in free:
        return DomainResolution(own)
    company = companies.get(contact.primary_company_id) if contact.primary_company_id else None
    if company is not None:
        resolved = company_domain(company, free)
        if resolved.domain is not None:
            return resolved
    if own is not None:
        return DomainResolution(None, Reason.FREE_EMAIL_DOMAIN)
    return DomainResolution(None, Reason.INVALID_DOMAIN)
