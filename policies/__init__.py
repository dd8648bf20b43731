"""The program rules engine (POLICY.md R1-R9): pure functions over frozen values.

Entry point: ``evaluate_program(program, terms, as_of) -> ProgramResult``. The value types are
in ``policies.model``; reason, problem and compliance codes in ``policies.reasons``.
"""

from policies.dates import add_days, add_months, next_payout_on_or_after, quarter_payout_date
from policies.domains import registrable_domain
from policies.evaluate import evaluate_program
from policies.reasons import ComplianceFlag, ProblemCode, Reason

__all__ = [
    "ComplianceFlag",
    "ProblemCode",
    "Reason",
    "add_days",
    "add_months",
    "evaluate_program",
    "next_payout_on_or_after",
    "quarter_payout_date",
    "registrable_domain",
]
