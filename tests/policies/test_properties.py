"""Property tests of the rules engine (hypothesis; STYLE.md 10). The rule id is in each name.

Programs come from the benchmark generator (``bench.program_gen``) at small sizes, with the seed
and a few terms drawn by hypothesis, plus a strategy of deliberately broken programs. Settings are
derandomized and bounded so the suite stays fast and repeatable.
"""

from __future__ import annotations

import calendar
import random
from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.program_gen import DEFAULT_START, Profile, bench_terms, generate_program, profile_as_of
from config.terms import ProgramTerms, load_terms
from policies.dates import add_months
from policies.evaluate import evaluate_program
from policies.model import (
    CommissionMonth,
    Company,
    Contact,
    Deal,
    Decision,
    ExitKind,
    Member,
    MemberKind,
    MonthState,
    MrrChange,
    Program,
    ProgramResult,
    RecordKind,
    RegistrationRequest,
    RegistrationStatus,
    Subscription,
    Tier,
)

T = TypeVar("T")

PROPS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FAST = settings(PROPS, max_examples=300)

SMALL = Profile("tiny", members=6, requests=40, deals=40, subscriptions=40, months=36)
# Few members fighting over few domains: most requests collide with an earlier one (R2.2.3-4).
CROWDED = Profile("crowded", members=4, requests=40, deals=20, subscriptions=10, domain_reuse=0.8)
ACTIVE = frozenset(
    {
        RegistrationStatus.REGISTERED,
        RegistrationStatus.EXPIRING_SOON,
        RegistrationStatus.REREGISTERED,
    }
)
BASE_TERMS = bench_terms(load_terms())

seeds = st.integers(min_value=0, max_value=2**32 - 1)
# Hypothesis leans towards the first choice and the low ends of ranges: CROWDED first, and
# ranges kept to values where the rules have something to do.
profiles = st.sampled_from([CROWDED, SMALL])
# Evaluation dates from before the program starts to well after its generated history.
as_of_dates = st.dates(
    min_value=DEFAULT_START + timedelta(days=45),
    max_value=profile_as_of(SMALL) + timedelta(days=400),
)


@st.composite
def tight_terms(draw: st.DrawFn) -> ProgramTerms:
    """Terms with small capacities and short registrations, so conflicts happen in tiny programs."""
    small = st.integers(min_value=1, max_value=4)
    capacity = BASE_TERMS.capacity.model_copy(
        update={k: draw(small) for k in ("provider", "untiered", "gold", "platinum", "diamond")}
    )
    registration = BASE_TERMS.registration.model_copy(
        update={"expiry_days": draw(st.integers(min_value=30, max_value=200))}
    )
    return BASE_TERMS.model_copy(update={"capacity": capacity, "registration": registration})


def _calendar_add_months(d: date, n: int) -> date:
    """Independent oracle: step the calendar month by month, clamp the day once at the end."""
    year, month = d.year, d.month
    step = 1 if n >= 0 else -1
    for _ in range(abs(n)):
        month += step
        if month == 13:
            year, month = year + 1, 1
        elif month == 0:
            year, month = year - 1, 12
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _ledger_key(line: CommissionMonth) -> tuple[str, str, int, str]:
    return (line.deal_id, line.subscription_id, line.month_index, line.member_code)


def _canonical(result: ProgramResult) -> tuple[object, ...]:
    """A result with its unordered parts put in one order, for equality across input orders."""
    problems = sorted(result.problems, key=lambda p: (p.record_kind, p.record_id, p.code, p.detail))
    return (
        dict(result.registrations),
        dict(result.deals),
        dict(result.members),
        dict(result.decisions),
        sorted(result.ledger, key=_ledger_key),
        problems,
    )


def _shuffled(program: Program, rng: random.Random) -> Program:
    def mix(items: tuple[T, ...]) -> tuple[T, ...]:
        out = list(items)
        rng.shuffle(out)
        return tuple(out)

    return replace(
        program,
        members=mix(program.members),
        companies=mix(program.companies),
        contacts=mix(program.contacts),
        deals=mix(
            tuple(replace(d, subscription_ids=mix(d.subscription_ids)) for d in program.deals)
        ),
        subscriptions=mix(program.subscriptions),
    )


# ---------------------------------------------------------------------------------------------
# §0 month arithmetic
# ---------------------------------------------------------------------------------------------


@FAST
@given(
    d=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    n=st.integers(min_value=-600, max_value=600),
)
def test_r0_add_months_equals_clamped_calendar_month(d: date, n: int) -> None:
    assert add_months(d, n) == _calendar_add_months(d, n)


@FAST
@given(
    anchor=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    length=st.integers(min_value=1, max_value=72),
)
def test_r0_month_sequence_from_anchor_never_drifts(anchor: date, length: int) -> None:
    for j in range(length):
        month = add_months(anchor, j)
        last_day = calendar.monthrange(month.year, month.month)[1]
        # The day is the anchor's wherever the month has it: a 31st comes back after February.
        assert month.day == min(anchor.day, last_day)
        assert (month.year * 12 + month.month) - (anchor.year * 12 + anchor.month) == j


@FAST
@given(year=st.integers(min_value=1904, max_value=2196).filter(calendar.isleap))
def test_r0_leap_day_plus_months(year: int) -> None:
    leap_day = date(year, 2, 29)
    assert add_months(leap_day, 12) == date(year + 1, 2, 28)
    # Four years on is a leap year again, except across a century like 2100 or 2200.
    assert add_months(leap_day, 48) == date(year + 4, 2, 29 if calendar.isleap(year + 4) else 28)
    assert add_months(leap_day, 1) == date(year, 3, 29)
    assert add_months(date(year, 1, 31), 1) == leap_day


@FAST
@given(d=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
def test_r0_month_end_round_trip(d: date) -> None:
    last_day = calendar.monthrange(d.year, d.month)[1]
    for n in (1, 5, 11, 12, 13, 36):
        forward = add_months(d, n)
        assert forward >= d
        if d.day <= 28:
            assert add_months(forward, -n) == d
        if d.day == last_day and d.day <= 28:  # only February's last day is <= 28
            assert forward.day == d.day


# ---------------------------------------------------------------------------------------------
# Whole-program properties
# ---------------------------------------------------------------------------------------------


@PROPS
@given(profile=profiles, seed=seeds, as_of=as_of_dates, terms=tight_terms())
def test_r2_no_domain_has_two_active_owners(
    profile: Profile, seed: int, as_of: date, terms: ProgramTerms
) -> None:
    result = evaluate_program(generate_program(profile, seed), terms, as_of)
    owners: dict[str, set[str | None]] = defaultdict(set)
    for out in result.registrations.values():
        if out.status in ACTIVE:
            assert out.domain is not None
            assert out.expires_at is not None
            assert as_of < out.expires_at
            owners[out.domain].add(out.registered_to)
    assert {d: o for d, o in owners.items() if len(o) != 1} == {}


@PROPS
@given(profile=profiles, seed=seeds, terms=tight_terms(), data=st.data())
def test_r3_active_registrations_never_exceed_capacity(
    profile: Profile, seed: int, terms: ProgramTerms, data: st.DataObject
) -> None:
    """Without exits (a downgrade may legitimately leave a member above capacity, R3), a member's
    active registrations never exceed its capacity at any date, in particular right after a
    decision; above capacity is always flagged ``over_capacity``."""
    program = generate_program(profile, seed)
    program = replace(
        program, members=tuple(replace(m, exit=None, exit_at=None) for m in program.members)
    )
    final = evaluate_program(program, terms, profile_as_of(profile))
    decision_dates = sorted({d.requested_at for d in final.decisions.values()})
    probes = (
        data.draw(st.lists(st.sampled_from(decision_dates), max_size=3)) if decision_dates else []
    )
    for as_of in [*probes, profile_as_of(profile)]:
        result = evaluate_program(program, terms, as_of)
        for member in result.members.values():
            assert member.capacity_used <= member.capacity_limit, (as_of, member)


@PROPS
@given(seed=seeds, as_of=as_of_dates, terms=tight_terms())
def test_r3_r9_over_capacity_is_flagged(seed: int, as_of: date, terms: ProgramTerms) -> None:
    result = evaluate_program(generate_program(SMALL, seed), terms, as_of)
    for member in result.members.values():
        over = member.capacity_used > member.capacity_limit
        assert over == ("over_capacity" in member.compliance_reasons), member


@PROPS
@given(seed=seeds, as_of=as_of_dates, shuffle_seed=seeds)
def test_r2_r5_outputs_do_not_depend_on_input_order(
    seed: int, as_of: date, shuffle_seed: int
) -> None:
    program = generate_program(SMALL, seed)
    shuffled = _shuffled(program, random.Random(shuffle_seed))
    assert _canonical(evaluate_program(shuffled, BASE_TERMS, as_of)) == _canonical(
        evaluate_program(program, BASE_TERMS, as_of)
    )


@PROPS
@given(seed=seeds, as_of=as_of_dates)
def test_r6_r7_commission_only_accrues_inside_the_plan_window(seed: int, as_of: date) -> None:
    result = evaluate_program(generate_program(SMALL, seed), BASE_TERMS, as_of)
    for line in result.ledger:
        deal = result.deals[line.deal_id]
        assert deal.commission_start is not None
        assert deal.commission_end is not None
        assert deal.commission_start <= line.month_start < deal.commission_end, (line, deal)
        assert line.month_start <= as_of  # R7.2: only months already started are received
        assert deal.attributed_to == line.member_code
        assert deal.rate is not None
        assert line.amount == (line.mrr * deal.rate).quantize(Decimal("0.01"), ROUND_HALF_UP)


@PROPS
@given(seed=seeds, as_of=as_of_dates)
def test_r8_deal_and_member_totals_equal_their_ledger_months(seed: int, as_of: date) -> None:
    program = generate_program(SMALL, seed)
    result = evaluate_program(program, BASE_TERMS, as_of)
    earned: dict[str, Decimal] = defaultdict(Decimal)
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for line in result.ledger:
        if line.state is not MonthState.FORFEITED:
            earned[line.deal_id] += line.amount
        if line.state is MonthState.PAYABLE and line.pay_date is not None:
            paid[line.deal_id] += line.amount if line.pay_date <= as_of else Decimal(0)
    for deal_id, deal in result.deals.items():
        assert deal.earned == earned[deal_id], deal
        assert deal.paid == paid[deal_id], deal
        assert deal.paid <= deal.earned
    for member in program.members:
        lines = [line for line in result.ledger if line.member_code == member.code]
        # §0 no FX: a member's total is kept in one currency (its first ledger line's);
        # lines in any other currency are left out and reported as a data problem.
        currency = lines[0].currency if lines else None
        kept = [line for line in lines if line.currency == currency]
        expected = sum(
            (line.amount for line in kept if line.state is not MonthState.FORFEITED), Decimal(0)
        )
        output = result.members[member.company_id]
        assert output.commission_earned_total == expected, output
        mixed = ("member", member.company_id, "mixed_currencies")
        reported = {(p.record_kind, p.record_id, p.code) for p in result.problems}
        assert (mixed in reported) == (len(kept) != len(lines))


@PROPS
@given(seed=seeds, as_of=as_of_dates)
def test_r8_next_payout_is_the_first_payable_date_after_as_of(seed: int, as_of: date) -> None:
    result = evaluate_program(generate_program(SMALL, seed), BASE_TERMS, as_of)
    future: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for line in result.ledger:
        if line.state is MonthState.PAYABLE and line.pay_date is not None and line.pay_date > as_of:
            future[line.deal_id][line.pay_date] += line.amount
    for deal_id, deal in result.deals.items():
        dates = future.get(deal_id, {})
        if not dates:
            assert deal.next_payout_date is None, deal
            continue
        first = min(dates)
        assert (deal.next_payout_date, deal.next_payout_amount) == (first, dates[first]), deal


# ---------------------------------------------------------------------------------------------
# Bad input: evaluation reports problems, it never raises
# ---------------------------------------------------------------------------------------------

_IDS = st.sampled_from(["1", "2", "3", "10", "c1", "", " "])
_CODES = st.one_of(st.none(), st.sampled_from(["P1", "P2", "p1", "", " P1 ", "X"]))
_SOME_DATE = st.dates(min_value=date(1970, 1, 1), max_value=date(2100, 12, 31))
_DATES = st.one_of(st.none(), _SOME_DATE)
_RAW_DOMAINS = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "acme.com",
            "www.Acme.com",
            "https://shop.acme.co.uk/x?y",
            "co.uk",
            "localhost",
            "127.0.0.1",
            "[::1]",
            "",
            "bücher.de",
            "xn--bcher-kva.de",
            "gmail.com",
            "gmx.net",
            "a..b",
            ".",
            "-x-.com",
            "user@acme.com",
            "acme.invalidtld",
            "http://",
            "ACME.COM.",
        ]
    ),
    st.text(max_size=30),
)
_MONEY = st.decimals(min_value=-1000, max_value=10**9, places=2, allow_nan=False)


@st.composite
def broken_programs(draw: st.DrawFn) -> Program:
    """Programs a careless portal could hold: dangling ids, duplicate codes, missing dates,
    windows ending before they start, unsorted MRR history, odd decisions."""
    requests = st.one_of(st.none(), st.builds(RegistrationRequest, _CODES, _DATES, _DATES, _DATES))
    members = st.builds(
        Member,
        _IDS,
        _CODES,
        st.sampled_from(MemberKind),
        st.sampled_from(Tier),
        _DATES,
        _DATES,
        _DATES,
        st.booleans(),
        _DATES,
        st.sampled_from(["none", "starter", "professional", "x"]),
        st.one_of(st.none(), st.sampled_from(ExitKind)),
        _DATES,
    )
    companies = st.builds(
        Company,
        _IDS,
        _RAW_DOMAINS,
        _RAW_DOMAINS,
        st.sampled_from([None, "9001", "7"]),
        st.sampled_from([None, "customer", "lead", ""]),
        requests,
    )
    contacts = st.builds(
        Contact,
        _IDS,
        st.one_of(st.none(), st.sampled_from(["a@acme.com", "b@gmail.com", "x", "@", "c@co.uk"])),
        st.one_of(st.none(), _IDS),
        requests,
    )
    subscriptions = st.builds(
        Subscription,
        _IDS,
        st.sampled_from([None, "active", "past_due", "unpaid", "canceled", "?"]),
        _DATES,
        _DATES,
        st.lists(st.builds(MrrChange, _SOME_DATE, _MONEY), max_size=3).map(tuple),
        st.sampled_from([None, "EUR", "USD"]),
    )
    deals = st.builds(
        Deal,
        _IDS,
        st.sampled_from([None, "closedwon", "closedlost", ""]),
        _DATES,
        _DATES,
        st.one_of(st.none(), _IDS),
        st.lists(_IDS, max_size=3).map(tuple),
        _CODES,
        st.booleans(),
        _CODES,
        st.sampled_from([None, "", "best partner wins"]),
        st.sampled_from([None, "EUR", "USD"]),
    )
    decision = st.builds(
        Decision,
        st.sampled_from(RecordKind),
        _IDS,
        st.sampled_from(["P1", "P2", "X"]),
        _SOME_DATE,
        st.sampled_from(RegistrationStatus),
        st.sampled_from(["", "capacity_reached", "nonsense"]),
        _RAW_DOMAINS,
        _CODES,
    )
    decisions = draw(st.lists(decision, max_size=4))
    return Program(
        members=tuple(draw(st.lists(members, max_size=5))),
        companies=tuple(draw(st.lists(companies, max_size=8))),
        contacts=tuple(draw(st.lists(contacts, max_size=5))),
        deals=tuple(draw(st.lists(deals, max_size=6))),
        subscriptions=tuple(draw(st.lists(subscriptions, max_size=6))),
        decisions={(d.record_kind, d.record_id): d for d in decisions},
    )


@settings(PROPS, max_examples=100)
@given(
    program=broken_programs(),
    as_of=st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 1, 1)),
)
def test_r1_to_r9_evaluation_never_raises_on_bad_input(program: Program, as_of: date) -> None:
    result = evaluate_program(program, BASE_TERMS, as_of)
    assert result.as_of == as_of
    # Every deal and every member with an id gets an output, however broken its data.
    assert set(result.deals) == {d.deal_id for d in program.deals}
