"""`partner-sync report` against POLICY.md's worked examples R7.5 and R8.4.

The ledger comes from ``evaluate_program`` over small programs, stored with the store's own API,
the plan from the deal outputs as the engine records them; no HubSpot involved.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from cli.main import app
from config.contract import contract_for_prefix
from mappers.outbound import deal_properties
from policies.model import Program
from sync.store import OutputChange, Store
from tests.policies.builders import (
    d,
    deal,
    evaluate,
    partner,
    program,
    provider,
    requesting_company,
    subscription,
)

runner = CliRunner()
CONTRACT = contract_for_prefix("partner_")


def _r7_5() -> Program:
    return program(
        provider("PR", "2018-06-01", paperwork_completed_at=d("2019-01-20")),
        requesting_company("c1", "shop.example.com", "PR", "2019-01-02"),
        deal("d1", "c1", "2019-01-15", subs=("s1", "s2")),
        subscription("s1", "2019-01-15", "50", end="2019-07-15"),
        subscription("s2", "2019-07-15", "400"),
    )


def _r8_4() -> Program:
    return program(
        partner("P", "2023-06-01", paperwork_completed_at=d("2024-05-20")),
        requesting_company("c2", "acme.com", "P", "2024-01-02"),
        deal("d2", "c2", "2024-02-10", subs=("s3",)),
        subscription("s3", "2024-02-10", "100"),
    )


def _store(url: str, *programs: tuple[Program, str]) -> None:
    """Evaluate each program at its date and store ledger and deal outputs like a sync does."""
    store = Store.from_url(url)
    store.migrate()
    with store.transaction() as tx:
        for prog, as_of in programs:
            result = evaluate(prog, as_of)
            tx.replace_ledger_for_deals(list(result.deals), result.ledger)
            tx.record_outputs(
                [OutputChange("deals", deal_id, name, value)
                 for deal_id, out in result.deals.items()
                 for name, value in deal_properties(out, CONTRACT).items()],
                run_id=None,
            )
    store.close()


def _report(url: str, out: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    env = {"PARTNER_SYNC_STORE__URL": url, "NO_COLOR": "1"}
    result = runner.invoke(app, ["report", "--out", str(out), "--json", *args], env=env)
    doc = orjson.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, doc, result.stderr


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    _store(url, (_r7_5(), "2021-01-01"), (_r8_4(), "2024-08-14"))
    return url


def test_r7_5_statement_totals_540(url: str, tmp_path: Path) -> None:
    code, doc, _ = _report(url, tmp_path / "out", "--member", "PR", "--as-of", "2021-01-01")
    assert code == 0
    (statement,) = doc["statements"]
    (totals,) = statement["totals"]
    assert (totals["currency"], totals["earned"]) == ("EUR", "540.00")
    with (tmp_path / "out" / "PR.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["amount"] for r in rows] == ["10.00"] * 6 + ["80.00"] * 6
    assert {r["plan"] for r in rows} == {"provider_12"}
    assert rows[0]["month_start"] == "2019-01-15"
    assert rows[-1]["month_start"] == "2019-12-15"
    assert {r["mrr"] for r in rows} == {"50", "400"}


def test_r8_4_held_months_paid_together_on_2024_08_14(url: str, tmp_path: Path) -> None:
    code, before, _ = _report(url, tmp_path / "a", "--member", "P", "--as-of", "2024-07-01")
    assert code == 0
    (totals,) = before["statements"][0]["totals"]
    assert (totals["earned"], totals["paid_to_date"]) == ("100.00", "0.00")
    assert (totals["next_payout_date"], totals["next_payout_amount"]) == ("2024-08-14", "100.00")

    code, _after, _ = _report(url, tmp_path / "b", "--member", "P", "--as-of", "2024-08-14",
                             "--format", "json")
    assert code == 0
    statement = orjson.loads((tmp_path / "b" / "P.json").read_bytes())
    assert not (tmp_path / "b" / "P.csv").exists()
    (totals,) = statement["totals"]
    assert (totals["earned"], totals["paid_to_date"]) == ("140.00", "100.00")
    first_five = statement["months"][:5]
    assert {m["pay_date"] for m in first_five} == {"2024-08-14"}
    assert {m["status"] for m in first_five} == {"paid"}
    assert [m["due_date"] for m in first_five[:2]] == ["2024-05-15"] * 2
    assert {m["plan"] for m in statement["months"]} == {"partner_36"}
    assert {m["status"] for m in statement["months"][5:]} == {"scheduled"}


def test_all_members_get_a_statement(url: str, tmp_path: Path) -> None:
    code, doc, _ = _report(url, tmp_path / "all", "--as-of", "2024-08-14")
    assert code == 0
    assert [s["member_code"] for s in doc["statements"]] == ["P", "PR"]
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == [
        "P.csv", "P.json", "PR.csv", "PR.json",
    ]


def test_unknown_member_exits_2_listing_known_codes(url: str, tmp_path: Path) -> None:
    code, doc, err = _report(url, tmp_path / "x", "--member", "NOPE")
    assert code == 2
    assert doc["error"] == "member 'NOPE' has no commission months in the store"
    assert "P, PR" in doc["fix"]
    assert "error:" in err


@pytest.mark.parametrize(("args", "word"), [
    (("--format", "xml"), "--format"),
    (("--as-of", "14/08/2024"), "YYYY-MM-DD"),
])
def test_bad_arguments_exit_2(url: str, tmp_path: Path, args: tuple[str, ...], word: str) -> None:
    code, _, err = _report(url, tmp_path / "x", *args)
    assert code == 2
    assert word in err


def test_a_store_never_created_exits_2_pointing_to_init(tmp_path: Path) -> None:
    code, doc, _ = _report(f"sqlite:///{tmp_path / 'never.db'}", tmp_path / "x")
    assert code == 2  # the documented code for an unmigrated store
    assert "partner-sync init" in doc["fix"]
    assert "never.db does not exist yet" in doc["error"]
    assert not (tmp_path / "never.db").exists()  # reading does not create it


def test_text_output_ends_with_a_summary_line(url: str, tmp_path: Path) -> None:
    out = tmp_path / "text"
    result = runner.invoke(app, ["report", "--out", str(out), "--as-of", "2024-08-14"],
                           env={"PARTNER_SYNC_STORE__URL": url, "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    assert last == f"report as of 2024-08-14: 2 member(s), 4 file(s) in {out}"
