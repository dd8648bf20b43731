"""R7.1-R7.3: the ledger's month walk equals the definition, month by month from the anchor.

``received_months`` steps one calendar month at a time and moves through the MRR history
forwards; the reference below is the rule as written: every ``j``, ``add_months(start, j)``,
the last history entry in force at that date (the first before any), the latest started month
of a past_due/unpaid subscription held back.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from policies.commission import received_months, revenue_months
from policies.dates import add_months
from policies.model import MrrChange, Subscription

_DAYS = st.dates(min_value=date(2019, 1, 1), max_value=date(2027, 12, 31))


def reference(
    sub: Subscription, window_start: date, window_end: date, as_of: date
) -> list[tuple[int, date, Decimal]]:
    start = sub.start_date
    if start is None or not sub.mrr_history:
        return []
    history = sorted(sub.mrr_history, key=lambda change: change.effective)
    started = [j for j in range(200) if add_months(start, j) <= as_of]
    latest = started[-1] if started else -1
    held_back = latest if (sub.status or "").strip().lower() in ("past_due", "unpaid") else -1
    out = []
    for j in range(200):
        m = add_months(start, j)
        if m < window_start or j == held_back:
            continue
        if m >= window_end or m > as_of or (sub.end_date is not None and m >= sub.end_date):
            break
        in_force = [c for c in history if c.effective <= m]
        out.append((j, m, (in_force[-1] if in_force else history[0]).amount))
    return out


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    start=_DAYS,
    end=st.none() | _DAYS,
    status=st.sampled_from([None, "active", "past_due", " Unpaid ", "canceled"]),
    changes=st.lists(st.tuples(_DAYS, st.integers(0, 500)), max_size=4),
    window_start=_DAYS,
    window_months=st.integers(0, 40),
    as_of=_DAYS,
)
def test_received_months_equal_the_rule(
    start: date,
    end: date | None,
    status: str | None,
    changes: list[tuple[date, int]],
    window_start: date,
    window_months: int,
    as_of: date,
) -> None:
    sub = Subscription(
        "s",
        status=status,
        start_date=start,
        end_date=end,
        mrr_history=tuple(MrrChange(day, Decimal(amount)) for day, amount in changes),
    )
    window_end = add_months(window_start, window_months)
    expected = reference(sub, window_start, window_end, as_of)
    assert (
        list(zip(*received_months(sub, window_start, window_end, as_of), strict=True)) == expected
    )
    assert [
        (m.index, m.start, m.mrr) for m in revenue_months(sub, window_start, window_end, as_of)
    ] == expected


def test_month_ends_clamp_and_recover() -> None:
    sub = Subscription(
        "s", start_date=date(2024, 1, 31), mrr_history=(MrrChange(date(2024, 1, 1), Decimal(1)),)
    )
    _, starts, _ = received_months(sub, date(2024, 1, 1), date(2025, 1, 1), date(2024, 12, 31))
    assert starts[:4] == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
    ]
    assert starts[-1] == date(2024, 12, 31)
    assert starts[4] == date(2024, 5, 31)  # each month from the anchor's day, not the last one


def test_an_mrr_change_on_a_month_start_applies_to_that_month() -> None:
    history = (MrrChange(date(2024, 1, 15), Decimal(10)), MrrChange(date(2024, 3, 15), Decimal(20)))
    sub = Subscription("s", start_date=date(2024, 1, 15), mrr_history=history)
    _, _, mrrs = received_months(sub, date(2024, 1, 1), date(2025, 1, 1), date(2024, 5, 1))
    assert mrrs == [Decimal(10), Decimal(10), Decimal(20), Decimal(20)]
