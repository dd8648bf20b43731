"""The benchmark's independent floors: budgets with the first window's burst, request kinds,
and the dataset counts that decide which linked companies a deal needs."""

from __future__ import annotations

import httpx
import pytest

from bench.floors import CallCounter, classify, dataset_counts, read_floor, wall_floor_s
from config.contract import CrmContract
from sandbox.dataset import Dataset, SeedAssociation, SeedRecord

C = CrmContract()


@pytest.mark.parametrize(
    ("general", "searches", "seconds"),
    [
        (0, 0, 0.0),
        (190, 5, 0.0),  # the first window's burst and the first second's searches
        (191, 0, 10.0),  # a rolling window: the 191st waits for the 1st to leave it
        (380, 0, 10.0),
        (381, 0, 20.0),
        (1200, 118, 60.0),  # profile M's full sync: the window, not the 23 s of searches
        (0, 6, 1.0),
        (0, 30, 5.0),
        (209, 30, 10.0),  # the two budgets overlap: the larger wins
    ],
)
def test_wall_floor_follows_the_rolling_windows(general: int, searches: int,
                                                seconds: float) -> None:
    assert wall_floor_s(general, searches) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("POST", "/crm/v3/objects/deals/search", ("search", "deals")),
        ("POST", "/crm/v4/associations/deals/companies/batch/read", ("associations", "deals")),
        ("POST", "/crm/v3/objects/companies/batch/read", ("batch_read", "companies")),
        ("POST", "/crm/v3/objects/contacts/batch/update", ("batch_update", "contacts")),
        ("GET", "/crm/v3/objects/deals", ("list", "deals")),
        ("GET", "/crm/v3/properties/deals", ("other", "/crm/v3/properties/deals")),
    ],
)
def test_classify(method: str, path: str, kind: tuple[str, str]) -> None:
    assert classify(method, path) == kind


def test_the_counter_counts_requests_updates_and_429s() -> None:
    answers = iter([200, 429, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(answers), json={})

    counter = CallCounter(httpx.MockTransport(handler))
    with httpx.Client(transport=counter, base_url="http://hub") as client:
        body = {"inputs": [{"id": "1"}, {"id": "2"}]}
        client.post("/crm/v3/objects/deals/batch/update", json=body)
        client.post("/crm/v3/objects/deals/batch/update", json=body)
        client.post("/crm/v3/objects/deals/search", json={})
    assert counter.by_kind() == {"batch_update": 2, "search": 1}
    assert counter.updated == {"deals": 2}  # the refused call wrote nothing
    assert counter.rate_limited == 1


def _record(object_type: str, object_id: str, **props: str) -> SeedRecord:
    return SeedRecord(object_type, object_id, dict(props), 0, 0)


def test_dataset_counts_take_the_primary_company_or_every_linked_one() -> None:
    dataset = Dataset(
        records=[
            _record("companies", "1", **{C.program_type: "partner"}),
            _record("companies", "2"), _record("companies", "3"), _record("companies", "4"),
            _record("contacts", "10", **{C.registration_requested_by: "P1"}),
            _record("contacts", "11"),  # carries nothing: not read, nor its company
            _record("deals", "20"), _record("deals", "21"),
            _record("subscriptions", "30"), _record("subscriptions", "31"),
        ],
        associations=[
            SeedAssociation("deals", "20", "companies", "2", primary=True),
            SeedAssociation("deals", "20", "companies", "3"),  # secondary: not needed
            SeedAssociation("companies", "4", "deals", "21"),  # reversed, no primary: needed
            SeedAssociation("contacts", "10", "companies", "1", primary=True),  # searched
            SeedAssociation("contacts", "11", "companies", "3", primary=True),
            SeedAssociation("deals", "21", "subscriptions", "30"),
        ],
    )
    counts = dataset_counts(dataset, C)
    assert (counts.member_or_carrier_companies, counts.carrier_contacts, counts.deals,
            counts.related_companies, counts.deal_subscriptions) == (1, 1, 2, 2, 1)
    assert read_floor(counts) == {"search": 3, "associations": 3, "batch_read": 2}
