"""R2.1: requests of one day are decided companies first, then contacts, each in id order.

Ids order as numbers (``id_key``); two ids of one value (``7`` and ``007``) tie, and the tie
goes to the companies' ids in text order and to the contacts in input order, whatever the order
of the program's companies. The same domain requested on the same day shows who came first: the
first registers it, the others find it registered to another partner.
"""

from __future__ import annotations

from policies.model import RecordKind, RegistrationStatus

from .builders import evaluate, partner, program, reg, requesting_company, requesting_contact

DAY = "2024-03-01"


def _winners(result: object, kind: RecordKind, ids: list[str]) -> list[str]:
    return [i for i in ids if reg(result, kind, i).status is RegistrationStatus.REGISTERED]  # type: ignore[arg-type]


def test_r2_1_numeric_ids_in_value_order_not_text_order() -> None:
    parts = [partner("A"), partner("B"), partner("C")]
    companies = [
        requesting_company("10", "acme.com", "A", DAY),
        requesting_company("9", "acme.com", "B", DAY),
        requesting_company("100", "acme.com", "C", DAY),
    ]
    for order in (companies, companies[::-1]):
        result = evaluate(program(*parts, *order), "2024-06-01")
        assert _winners(result, RecordKind.COMPANY, ["9", "10", "100"]) == ["9"]


def test_r2_1_companies_of_one_id_value_tie_in_text_order() -> None:
    parts = [partner("A"), partner("B")]
    companies = [
        requesting_company("7", "acme.com", "A", DAY),
        requesting_company("007", "acme.com", "B", DAY),
    ]
    for order in (companies, companies[::-1]):
        result = evaluate(program(*parts, *order), "2024-06-01")
        assert _winners(result, RecordKind.COMPANY, ["7", "007"]) == ["007"]
        loser = reg(result, RecordKind.COMPANY, "7")
        assert loser.reason == "registered_to_other_partner"


def test_r2_1_contacts_of_one_id_value_tie_in_input_order() -> None:
    parts = [partner("A"), partner("B")]
    first = requesting_contact("7", "ann@acme.com", "A", DAY)
    second = requesting_contact("07", "bob@acme.com", "B", DAY)
    assert _winners(
        evaluate(program(*parts, first, second), "2024-06-01"), RecordKind.CONTACT, ["7", "07"]
    ) == ["7"]
    assert _winners(
        evaluate(program(*parts, second, first), "2024-06-01"), RecordKind.CONTACT, ["7", "07"]
    ) == ["07"]


def test_r2_1_a_company_goes_before_a_contact_of_a_lower_id() -> None:
    parts = [partner("A"), partner("B")]
    result = evaluate(
        program(
            *parts,
            requesting_contact("1", "ann@acme.com", "A", DAY),
            requesting_company("2", "acme.com", "B", DAY),
        ),
        "2024-06-01",
    )
    assert reg(result, RecordKind.COMPANY, "2").status is RegistrationStatus.REGISTERED
    assert reg(result, RecordKind.CONTACT, "1").reason == "registered_to_other_partner"
