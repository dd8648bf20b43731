"""A subscription's month is counted once (POLICY.md R7.6): a unique index on the ledger.

Stores written by older versions may hold a month on two deals, and ledger rows of deals that
left the mirror; both are removed first (the next writing run rebuilds the ledger of every
mirrored deal from the rules, so nothing is lost).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM ledger WHERE EXISTS (SELECT 1 FROM ledger other"
        " WHERE other.subscription_id = ledger.subscription_id"
        " AND other.month_index = ledger.month_index AND other.deal_id <> ledger.deal_id)"
    )
    op.execute(
        "DELETE FROM ledger WHERE NOT EXISTS (SELECT 1 FROM mirror"
        " WHERE mirror.object_type = 'deals' AND mirror.object_id = ledger.deal_id)"
    )
    op.create_index(
        "uq_ledger_subscription_month", "ledger", ["subscription_id", "month_index"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_ledger_subscription_month", table_name="ledger")
