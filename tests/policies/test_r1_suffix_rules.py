"""R1.1: ``domains.SuffixRules`` answers exactly what ``publicsuffixlist`` answers.

``registrable_domain`` asks ``SuffixRules.private_suffix`` instead of the library's
``privatesuffix`` (same rules, fewer lookups per host); any difference would change registrable
domains, so it is compared with the library on every rule of the bundled list and on random hosts
built from the list's own labels.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from publicsuffixlist import PublicSuffixList

from policies.domains import SuffixRules

PSL = PublicSuffixList(accept_unknown=False)  # as policies.domains builds it
RULES = SuffixRules(PSL)
RULE_TEXTS = sorted(PSL._publicsuffix)
LABELS = sorted({label for rule in RULE_TEXTS for label in rule.split(".")})


def _library(host: str) -> str | None:
    found = PSL.privatesuffix(host)
    return found if isinstance(found, str) else None


def test_r1_1_every_rule_under_any_prefix() -> None:
    for rule in RULE_TEXTS:
        for form in (rule, rule.removeprefix("!"), rule.replace("*", "any")):
            for prefix in ("", "acme.", "www.shop.acme.", "a.b.c.d.e.f.g."):
                for host in (prefix + form, prefix + form + ".", (prefix + form).upper()):
                    assert RULES.private_suffix(host) == _library(host), host


@pytest.mark.parametrize(
    "host",
    [
        "",
        ".",
        "..",
        "com",
        "acme.com",
        "ACME.com",
        "acme..com",
        ".acme.com",
        "acme.com.",
        "acme.com..",
        "www.city.kobe.jp",
        "city.kobe.jp",
        "kobe.jp",
        "a.b.kobe.jp",
        "co.uk",
        "acme.co.uk",
        "123.45",
        "acme.notatld",
        "*.ck",
        "x.*.ck",
        "!www.ck",
    ],
)
def test_r1_1_edge_hosts(host: str) -> None:
    assert RULES.private_suffix(host) == _library(host)


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(
        st.one_of(st.sampled_from(LABELS), st.sampled_from(["", "*", "!x", "WWW", "Acme", "7"])),
        min_size=1,
        max_size=10,
    )
)
def test_r1_1_random_hosts_from_the_lists_labels(labels: list[str]) -> None:
    host = ".".join(labels)
    assert RULES.private_suffix(host) == _library(host)


def test_r1_1_another_library_layout_falls_back_to_the_library() -> None:
    class Other:
        def privatesuffix(self, host: str) -> str | None:
            return f"asked:{host}"

    assert SuffixRules(Other()).private_suffix("acme.com") == "asked:acme.com"  # type: ignore[arg-type]
