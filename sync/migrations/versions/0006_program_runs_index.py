"""The newest run that is not a member-portal job, found without scanning portal runs.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOT_PORTAL = sa.text("kind != 'portal'")


def upgrade() -> None:
    op.create_index("ix_runs_program", "runs", ["run_id"],
                    sqlite_where=_NOT_PORTAL, postgresql_where=_NOT_PORTAL)


def downgrade() -> None:
    op.drop_index("ix_runs_program", table_name="runs")
