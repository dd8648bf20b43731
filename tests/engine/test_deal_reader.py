"""The full read's choice between search and list for deals (cost in seconds of budget)."""

from __future__ import annotations

from config.settings import HubSpotSettings
from sync.engine.full import deal_reader


def test_one_search_page_is_never_re_read_by_list() -> None:
    assert deal_reader(200, HubSpotSettings()) == "search"


def test_many_deals_go_to_the_list_endpoint_under_default_budgets() -> None:
    # 50 more search pages at 5/s = 10 s against 100 list pages at 19/s = 5.3 s
    assert deal_reader(10_000, HubSpotSettings()) == "list"


def test_a_generous_search_budget_keeps_search() -> None:
    fast_search = HubSpotSettings(search_per_s=50, rate_limit_per_10s=100)
    assert deal_reader(10_000, fast_search) == "search"
