"""The claim index also orders by position: claiming the next item reads one index entry.

Items of one archive share their `available_at`, so with (status, available_at) alone every claim
sorted all queued items of the batch by position: a cost per claim that grows with the queue
(25,000 queued items took milliseconds per claim, on the one write lock of SQLite).

Revision ID: 0002_claim_index_position
Revises: 0001_initial
Create Date: 2026-11-22 05:12:00
"""

from __future__ import annotations

from alembic import op

revision = "0002_claim_index_position"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batch_items", schema=None) as batch_op:
        batch_op.drop_index("ix_batch_items_claim")
        batch_op.create_index("ix_batch_items_claim", ["status", "available_at", "position"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("batch_items", schema=None) as batch_op:
        batch_op.drop_index("ix_batch_items_claim")
        batch_op.create_index("ix_batch_items_claim", ["status", "available_at"], unique=False)
