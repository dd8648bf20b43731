"""The store's tables (SQLAlchemy Core). Alembic's ``0001_initial`` creates exactly these.

A test compares this metadata with the migrated database, so a change here needs a migration.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from sync.store.coltypes import ExactDecimal, JsonValue, UtcDateTime

__all__ = [
    "checkpoints",
    "decisions",
    "inbox",
    "ledger",
    "locks",
    "member_portals",
    "metadata",
    "mirror",
    "outputs",
    "portal_jobs",
    "portal_links",
    "run_problems",
    "runs",
]

# Deterministic constraint names, so migrations and this metadata agree on both dialects.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING_CONVENTION)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
_BigId = BigInteger().with_variant(Integer(), "sqlite")

mirror = Table(
    "mirror",
    metadata,
    Column("object_type", String(32), primary_key=True),
    Column("object_id", String(64), primary_key=True),
    Column("properties", JsonValue(), nullable=False),
    Column("history", JsonValue(), nullable=False),
    Column("associations", JsonValue(), nullable=False),
    Column("archived", Boolean(), nullable=False, default=False),
    Column("updated_at", UtcDateTime(), nullable=True),
    Column("fetched_at", UtcDateTime(), nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("record_kind", String(16), primary_key=True),
    Column("record_id", String(64), primary_key=True),
    Column("requested_by", String(128), nullable=False),
    Column("requested_at", Date(), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("reason", String(128), nullable=False),
    Column("domain", String(255), nullable=True),
    Column("registered_to", String(128), nullable=True),
    Column("saved_at", UtcDateTime(), nullable=False),
)

# One row per (deal, subscription, month index): the primary key is what makes a duplicated
# month impossible, whatever the caller does.
ledger = Table(
    "ledger",
    metadata,
    Column("deal_id", String(64), primary_key=True),
    Column("subscription_id", String(64), primary_key=True),
    Column("month_index", Integer(), primary_key=True),
    Column("member_code", String(128), nullable=False),
    Column("month_start", Date(), nullable=False),
    Column("mrr", ExactDecimal(), nullable=False),
    Column("amount", ExactDecimal(), nullable=False),
    Column("currency", String(8), nullable=True),
    Column("due_date", Date(), nullable=False),
    Column("pay_date", Date(), nullable=True),
    Column("state", String(32), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_ledger_member", "member_code"),
    # R7.6: a subscription's month is counted for one deal only (migration 0002)
    Index("uq_ledger_subscription_month", "subscription_id", "month_index", unique=True),
)

outputs = Table(
    "outputs",
    metadata,
    Column("object_type", String(32), primary_key=True),
    Column("object_id", String(64), primary_key=True),
    Column("property", String(128), primary_key=True),
    Column("value", Text(), nullable=True),
    Column("written_at", UtcDateTime(), nullable=False),
    Column("run_id", BigInteger(), nullable=True),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("value", Text(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", _BigId, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("trigger", String(64), nullable=False),
    Column("as_of", Date(), nullable=True),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    Column("status", String(32), nullable=False),
    Column("counts", JsonValue(), nullable=False),
    Column("error", Text(), nullable=True),
    Index("ix_runs_started", "started_at"),
    # the newest program run (any kind but a member-portal job) in one index step
    Index("ix_runs_program", "run_id", sqlite_where=text("kind != 'portal'"),
          postgresql_where=text("kind != 'portal'")),
    # the sync lock holder the run belongs to (a run whose holder is gone is abandoned)
    Column("lock_name", String(128), nullable=True),
    Column("lock_owner", String(128), nullable=True),
)

run_problems = Table(
    "run_problems",
    metadata,
    Column("problem_id", _BigId, primary_key=True, autoincrement=True),
    Column(
        "run_id", BigInteger(), ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False
    ),
    Column("record_kind", String(32), nullable=False),
    Column("record_id", String(64), nullable=False),
    Column("code", String(128), nullable=False),
    Column("detail", Text(), nullable=False),
    Index("ix_run_problems_run", "run_id"),
)

inbox = Table(
    "inbox",
    metadata,
    Column("item_id", _BigId, primary_key=True, autoincrement=True),
    Column("dedup_key", String(512), nullable=False, unique=True),
    Column("payload", JsonValue(), nullable=False),
    Column("object_type", String(32), nullable=True),
    Column("object_id", String(64), nullable=True),
    Column("received_at", UtcDateTime(), nullable=False),
    # pending -> claimed -> done | pending (retry) | dead
    Column("status", String(16), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("claimed_by", String(128), nullable=True),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("last_error", Text(), nullable=True),
    Column("finished_at", UtcDateTime(), nullable=True),
    Index("ix_inbox_status_next", "status", "next_attempt_at"),
    # claims whose holder never finished them (died or hung): a crash loop is dead-lettered
    Column("lost_claims", Integer(), nullable=False, server_default="0"),
)

# SQLite's stand-in for PostgreSQL advisory locks: a row with an owner and a lease.
locks = Table(
    "locks",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("owner", String(128), nullable=False),
    Column("lease_until", UtcDateTime(), nullable=False),
    # the fencing token: grows each time a new owner takes the lock
    Column("token", BigInteger(), nullable=False, server_default="0"),
)

# Member portals: one row per connected HubSpot portal (tokens encrypted at rest).
member_portals = Table(
    "member_portals",
    metadata,
    Column("hub_id", BigInteger(), primary_key=True, autoincrement=False),
    Column("member_code", String(128), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("scopes", Text(), nullable=False),
    Column("refresh_token", Text(), nullable=False),
    Column("access_token", Text(), nullable=True),
    Column("access_expires_at", UtcDateTime(), nullable=True),
    Column("connected_at", UtcDateTime(), nullable=False),
    Column("disconnected_at", UtcDateTime(), nullable=True),
    Column("last_sync_at", UtcDateTime(), nullable=True),
    Column("last_error", Text(), nullable=True),
    Column("calls_used", BigInteger(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# Member-portal work: pending -> claimed -> done | pending (retry with backoff) | failed.
portal_jobs = Table(
    "portal_jobs",
    metadata,
    Column("job_id", _BigId, primary_key=True, autoincrement=True),
    Column("hub_id", BigInteger(), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("claimed_by", String(128), nullable=True),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("last_error", Text(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    Index("ix_portal_jobs_status_next", "status", "next_attempt_at"),
    Index("ix_portal_jobs_hub", "hub_id"),
)

# Which program-portal company carries a member-portal company's request.
portal_links = Table(
    "portal_links",
    metadata,
    Column("hub_id", BigInteger(), primary_key=True, autoincrement=False),
    Column("member_company_id", String(64), primary_key=True),
    Column("domain", String(255), nullable=False),
    Column("program_company_id", String(64), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)
