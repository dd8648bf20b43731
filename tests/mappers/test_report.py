"""The data-problem report printed by the run log, ``doctor`` and ``report``."""

from __future__ import annotations

from mappers.report import ProblemLine, build_report, rule_for
from policies.model import Problem


def test_report_lines_are_sorted_deduplicated_and_name_the_rule() -> None:
    problems = [
        Problem("deal", "20", "missing_close_date", "dealstage='closedwon'"),
        Problem("contact", "100", "invalid_date", "x='?'"),
        Problem("contact", "9", "invalid_date", "x='?'"),
        Problem("deal", "20", "missing_close_date", "dealstage='closedwon'"),
        Problem("member", "3", "something_new", ""),
    ]
    report = build_report(problems)
    assert [(line.record_kind, line.record_id, line.code) for line in report.lines] == [
        ("contact", "9", "invalid_date"),
        ("contact", "100", "invalid_date"),
        ("deal", "20", "missing_close_date"),
        ("member", "3", "something_new"),
    ]
    assert [line.rule_id for line in report.lines] == ["§0", "§0", "R5", ""]
    assert report.counts() == {"invalid_date": 2, "missing_close_date": 1, "something_new": 1}


def test_report_rows_and_per_record_lookup() -> None:
    report = build_report([Problem("deal", "7", "override_without_reason", "BEST")])
    assert report.rows() == [{"code": "override_without_reason", "record_kind": "deal",
                              "record_id": "7", "detail": "BEST", "rule_id": "R5.5"}]
    assert report.for_record("deal", "7") == (
        ProblemLine("deal", "7", "override_without_reason", "BEST", "R5.5"),)
    assert report.for_record("deal", "8") == ()


def test_rule_for_known_and_unknown_codes() -> None:
    assert rule_for("member_without_code") == "R2.1"
    assert rule_for("invalid_registration_status") == "R2.3"
    assert rule_for("nope") == ""
