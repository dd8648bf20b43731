"""HubSpot records <-> policy values: parsing, validation, data-problem reports, minimal patches.

Inbound: ``from_api``/``associations_from_v4`` build ``RawRecord`` values from HubSpot JSON;
``to_program`` maps them (with the store's sticky decisions) to a ``policies.model.Program`` and
the data problems met. Outbound: ``desired_outputs`` renders a ``ProgramResult`` as HubSpot
strings and ``diff`` keeps only what really differs from the records' current values.
Imports only the standard library, ``policies`` and ``config``.
"""

from mappers.decisions import Joined, anchor_joined, merge_decisions, read_back
from mappers.inbound import to_program
from mappers.outbound import (
    ObjectKey,
    Patch,
    clear_outputs,
    deal_properties,
    desired_outputs,
    diff,
    member_properties,
    registration_properties,
)
from mappers.parse import (
    Invalid,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_enum,
    parse_multi,
    parse_text,
    parse_timestamp_ms,
)
from mappers.records import (
    AssociationRef,
    RawRecord,
    associations_from_v4,
    canonical_object_type,
    from_api,
)
from mappers.report import ProblemLine, ProblemReport, build_report, rule_for

__all__ = [
    "AssociationRef",
    "Invalid",
    "Joined",
    "ObjectKey",
    "Patch",
    "ProblemLine",
    "ProblemReport",
    "RawRecord",
    "anchor_joined",
    "associations_from_v4",
    "build_report",
    "canonical_object_type",
    "clear_outputs",
    "deal_properties",
    "desired_outputs",
    "diff",
    "from_api",
    "member_properties",
    "merge_decisions",
    "parse_bool",
    "parse_date",
    "parse_decimal",
    "parse_enum",
    "parse_multi",
    "parse_text",
    "parse_timestamp_ms",
    "read_back",
    "registration_properties",
    "rule_for",
    "to_program",
]
