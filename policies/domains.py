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
    "SuffixRules",
    "company_domain",
    "company_domains",
    "contact_domain",
    "email_domain",
    "registrable_domain",
]

# accept_unknown=False: a name under a TLD the PSL does not know is one "the PSL cannot split".
_PSL = PublicSuffixList(accept_unknown=False)


class SuffixRules:
    """``psl.privatesuffix(host)`` for the hosts ``registrable_domain`` asks about, in fewer
    steps: the same rules, looked up in the same order, skipping what cannot match.

    ``PublicSuffixList`` tries a host's suffixes from the deepest the list could hold (8
    labels) up to its top-level domain, joining labels and looking up three forms of each
    (``!s``, ``*.s``, ``s``); the first match gives the public suffix. A suffix that no rule
    ends with cannot match, nor can any deeper one (``_tails`` holds every label suffix of
    every rule), so the lookups start from the deepest suffix that some rule ends with, on
    slices of the host. For most hosts (``acme.com``, ``www.acme.io``) that is the top-level
    domain, a plain rule, and the answer is the last two labels. Built from the library's own
    parsed rules; if they are not where this expects them (another ``publicsuffixlist``
    version), every host goes to the library.
    """

    __slots__ = ("_exact", "_exceptions", "_max_depth", "_psl", "_tails", "_wildcards")

    def __init__(self, psl: PublicSuffixList) -> None:
        self._psl = psl
        self._exact: frozenset[str] | None = None  # None: ask the library
        self._exceptions: frozenset[str] = frozenset()  # s with "!s" a rule
        self._wildcards: frozenset[str] = frozenset()  # s with "*.s" a rule
        self._tails: frozenset[str] = frozenset()
        self._max_depth = 0
        rules, max_label = getattr(psl, "_publicsuffix", None), getattr(psl, "_maxlabel", None)
        if not isinstance(rules, frozenset) or not isinstance(max_label, int):
            return
        if not all(isinstance(rule, str) for rule in rules):
            return
        tails: set[str] = set()
        for rule in rules:  # every label suffix of each rule, as written and unmarked
            bare = rule.removeprefix("!")
            for text in (rule, bare, bare.removeprefix("*."), rule.removeprefix("*.")):
                labels = text.split(".")
                tails.update(".".join(labels[i:]) for i in range(len(labels)))
        self._exact = rules
        self._exceptions = frozenset(rule[1:] for rule in rules if rule.startswith("!"))
        self._wildcards = frozenset(rule[2:] for rule in rules if rule.startswith("*."))
        self._tails = frozenset(tails)
        self._max_depth = max_label + 1  # the library's deepest try

    def private_suffix(self, host: str) -> str | None:
        """The registrable domain of ``host``, exactly ``psl.privatesuffix(host)`` (or None)."""
        exact = self._exact
        if exact is None:
            found = self._psl.privatesuffix(host)
            return found if isinstance(found, str) else None
        # a lower-case name without empty labels whose last two labels no rule ends with,
        # under a plain top-level rule: the library's only match is that rule
        last = host.rfind(".")
        if last > 0 and host.islower() and ".." not in host and host[0] != ".":
            two = host[host.rfind(".", 0, last) + 1 :]
            if two not in self._tails:
                top = host[last + 1 :]
                if top in exact and top not in self._exceptions and top not in self._wildcards:
                    return two
        return self._any(host, exact)

    def _any(self, host: str, exact: frozenset[str]) -> str | None:
        if host.endswith("."):
            host = host[:-1]
        host = host.lower()
        if not host or host[0] == "." or host[-1] == "." or ".." in host:
            return None  # an empty label
        count = host.count(".") + 1
        # the deepest suffix some rule ends with; ``cut``: where it starts in ``host``
        depth, cut = 0, len(host)
        limit = min(count, self._max_depth)
        while depth < limit:
            start = host.rfind(".", 0, cut - 1) + 1
            if host[start:] not in self._tails:
                break
            depth, cut = depth + 1, start
        public = 0
        while depth:  # the library's three checks, in its order, from that depth up
            suffix = host[cut:]
            if suffix in self._exceptions:
                public = depth - 1
                break
            if suffix in self._wildcards:
                public = depth + 1 if depth < count else depth
                break
            if suffix in exact:
                public = depth
                break
            depth -= 1
            cut = host.find(".", cut) + 1
        if not public or count < public + 1:
            return None
        cut = len(host)
        for _ in range(public + 1):
            cut = host.rfind(".", 0, cut - 1) + 1
        return host[cut:]


_SUFFIXES = SuffixRules(_PSL)


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
    return _SUFFIXES.private_suffix(ascii_host)


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
        """``company_domain``'s answer as cached: the domain, or the resolution without one."""
        domain = registrable_domain(company.domain) or registrable_domain(company.website)
        found: str | DomainResolution = _INVALID if domain is None else domain
        if domain is not None and domain in self._free:
            found = _FREE
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
