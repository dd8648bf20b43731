"""The program rules engine (POLICY.md R1-R9): pure functions over frozen values.

Entry point: ``evaluate_program(program, terms, as_of) -> ProgramResult``. The value types are
in ``policies.model``; reason, problem and compliance codes in ``policies.reasons``.

``COMPILED`` says whether this build of the package was compiled with mypyc (an opt-in
install, ``PARTNER_SYNC_COMPILE=1 pip install .``; see setup.py) or is plain Python.
"""

from policies.dates import add_days, add_months, next_payout_on_or_after, quarter_payout_date
from policies.domains import registrable_domain
from policies.evaluate import evaluate_program
from policies.reasons import ComplianceFlag, ProblemCode, Reason

COMPILED: bool = not __file__.endswith((".py", ".pyc"))
"""True when the package's modules are mypyc extension modules (``policies.dates`` excepted)."""

__all__ = [
    "COMPILED",
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
