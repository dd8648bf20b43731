"""Fenced sync runs and crash-loop detection.

``locks.token`` is the fencing token (it grows each time a new owner takes a lock);
``runs.lock_name``/``runs.lock_owner`` say which lock holder a run belongs to, so a run whose
holder is gone can be marked ``abandoned``; ``inbox.lost_claims`` counts the claims of an event
whose holder never finished them (a crash loop is dead-lettered).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("locks") as batch:
        batch.add_column(sa.Column("token", sa.BigInteger(), nullable=False, server_default="0"))
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("lock_name", sa.String(128), nullable=True))
        batch.add_column(sa.Column("lock_owner", sa.String(128), nullable=True))
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(
            sa.Column("lost_claims", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.drop_column("lost_claims")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("lock_owner")
        batch.drop_column("lock_name")
    with op.batch_alter_table("locks") as batch:
        batch.drop_column("token")
