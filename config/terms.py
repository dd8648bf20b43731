"""Program terms: the numbers and lists of POLICY.md as frozen, typed values.

The defaults ship in ``program_terms.toml`` beside this module; an operator may override any key
with a TOML file of their own (only the keys they name change).
"""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = [
    "CapacityTerms",
    "CommissionTerms",
    "DealTerms",
    "DomainTerms",
    "MembershipTerms",
    "PayoutTerms",
    "ProgramTerms",
    "RegistrationTerms",
    "TermsError",
    "load_terms",
]


class TermsError(ValueError):
    """The program terms file is unreadable or names a bad value; the message names the key."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DomainTerms(_Frozen):
    """R1.2: domains that can never be registered. ``gmx.*`` matches any suffix."""

    free_email_domains: tuple[str, ...]

    @field_validator("free_email_domains")
    @classmethod
    def _lower(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(d.strip().lower() for d in v if d.strip())


class RegistrationTerms(_Frozen):
    expiry_days: int = Field(gt=0)
    reregistration_days: int = Field(gt=0)
    expiring_soon_days: int = Field(ge=0)
    max_reregistrations: int = Field(ge=0)


class CapacityTerms(_Frozen):
    provider: int = Field(ge=0)
    untiered: int = Field(ge=0)
    gold: int = Field(ge=0)
    platinum: int = Field(ge=0)
    diamond: int = Field(ge=0)
    elite: int = Field(ge=0)


class DealTerms(_Frozen):
    closed_won_stages: tuple[str, ...]
    direct_sales_owner_ids: tuple[str, ...]

    @field_validator("direct_sales_owner_ids", mode="before")
    @classmethod
    def _as_strings(cls, v: Any) -> Any:
        if isinstance(v, list | tuple):
            return tuple(str(x) for x in v)
        return v


class CommissionTerms(_Frozen):
    provider_rate: Decimal = Field(ge=0, le=1)
    provider_window_months: int = Field(gt=0)
    legacy_rate: Decimal = Field(ge=0, le=1)
    legacy_window_months: int = Field(gt=0)
    partner_rate: Decimal = Field(ge=0, le=1)
    partner_window_months: int = Field(gt=0)
    legacy_joined_before: date
    legacy_closed_before: date


class PayoutTerms(_Frozen):
    payout_lag_days: int = Field(ge=0)
    paperwork_deadline_months: int = Field(ge=0)
    paperwork_anchor: Literal["close", "join"]


class MembershipTerms(_Frozen):
    gold_deadline_months: int = Field(gt=0)
    tier_evaluation_day: int = Field(ge=1, le=28)
    removal_notice_days: int = Field(ge=0)
    onboarding_days: int = Field(ge=0)
    first_registration_days: int = Field(ge=0)
    partner_required_plans: tuple[str, ...]
    provider_required_plans: tuple[str, ...]


class ProgramTerms(_Frozen):
    """Every term of the program. Frozen: pass it down, never mutate it."""

    domains: DomainTerms
    registration: RegistrationTerms
    capacity: CapacityTerms
    deals: DealTerms
    commission: CommissionTerms
    payouts: PayoutTerms
    membership: MembershipTerms


def _default_document() -> dict[str, Any]:
    text = resources.files("config").joinpath("program_terms.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _merge(base: dict[str, Any], override: dict[str, Any], path: str = "") -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        where = f"{path}{key}"
        if key not in base:
            raise TermsError(f"unknown program term {where!r}")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise TermsError(f"program term {where!r} must be a table")
            out[key] = _merge(base[key], value, where + ".")
        else:
            out[key] = value
    return out


def load_terms(override_file: Path | str | None = None) -> ProgramTerms:
    """Load the shipped terms, overlaid with ``override_file`` when given.

    Raises ``TermsError`` naming the offending key and file.
    """
    document = _default_document()
    if override_file is not None:
        path = Path(override_file)
        try:
            override = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise TermsError(f"cannot read program terms file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise TermsError(f"program terms file {path} is not valid TOML: {exc}") from exc
        document = _merge(document, override)
    try:
        return ProgramTerms.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise TermsError(f"program term {key!r}: {first['msg']}") from exc
