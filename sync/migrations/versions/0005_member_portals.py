"""Member portals: connected portals, their jobs and request links.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sync.store.coltypes import UtcDateTime

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "member_portals",
        sa.Column("hub_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("member_code", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("access_expires_at", UtcDateTime(), nullable=True),
        sa.Column("connected_at", UtcDateTime(), nullable=False),
        sa.Column("disconnected_at", UtcDateTime(), nullable=True),
        sa.Column("last_sync_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("calls_used", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("hub_id", name="pk_member_portals"),
        sa.UniqueConstraint("member_code", name="uq_member_portals_member_code"),
    )
    op.create_table(
        "portal_jobs",
        sa.Column("job_id", _BigId, autoincrement=True, nullable=False),
        sa.Column("hub_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(128), nullable=True),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("job_id", name="pk_portal_jobs"),
    )
    op.create_index("ix_portal_jobs_status_next", "portal_jobs", ["status", "next_attempt_at"])
    op.create_index("ix_portal_jobs_hub", "portal_jobs", ["hub_id"])
    op.create_table(
        "portal_links",
        sa.Column("hub_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("member_company_id", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("program_company_id", sa.String(64), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("hub_id", "member_company_id", name="pk_portal_links"),
    )


def downgrade() -> None:
    op.drop_table("portal_links")
    op.drop_index("ix_portal_jobs_hub", table_name="portal_jobs")
    op.drop_index("ix_portal_jobs_status_next", table_name="portal_jobs")
    op.drop_table("portal_jobs")
    op.drop_table("member_portals")
