"""Cross-article views: actors merged across articles, the facts they are linked to, tracked proposals.

Filled as each item's result is written, so the views grow with each article instead of being
recomputed from every result.

Revision ID: 0003_cross_article_views
Revises: 0002_claim_index_position
Create Date: 2026-11-22 05:50:55.622396
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_cross_article_views"
down_revision = "0002_claim_index_position"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "view_actor_names",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("actor_key", sa.String(length=256), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("article_id", sa.String(length=1024), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_view_actor_names")),
        sa.UniqueConstraint(
            "actor_key", "kind", "name", name=op.f("uq_view_actor_names_actor_key_kind_name")
        ),
    )
    with op.batch_alter_table("view_actor_names", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_view_actor_names_actor_key"), ["actor_key"], unique=False)

    op.create_table(
        "view_actors",
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("surname", sa.String(length=256), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_view_actors")),
    )
    with op.batch_alter_table("view_actors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_view_actors_surname"), ["surname"], unique=False)

    op.create_table(
        "view_proposals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_view_proposals")),
    )
    op.create_table(
        "view_proposal_terms",
        sa.Column("term", sa.String(length=128), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["view_proposals.id"],
            name=op.f("fk_view_proposal_terms_proposal_id_view_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("term", "proposal_id", name=op.f("pk_view_proposal_terms")),
    )
    op.create_table(
        "view_actor_items",
        sa.Column("actor_key", sa.String(length=256), nullable=False),
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batches.id"],
            name=op.f("fk_view_actor_items_batch_id_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["batch_items.id"],
            name=op.f("fk_view_actor_items_item_id_batch_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("actor_key", "item_id", name=op.f("pk_view_actor_items")),
    )
    with op.batch_alter_table("view_actor_items", schema=None) as batch_op:
        batch_op.create_index("ix_view_actor_items_batch", ["batch_id", "actor_key"], unique=False)

    op.create_table(
        "view_facts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("item_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_view_facts_batch_id_batches"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["batch_items.id"],
            name=op.f("fk_view_facts_item_id_batch_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_view_facts")),
    )
    with op.batch_alter_table("view_facts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_view_facts_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_view_facts_proposal_id"), ["proposal_id"], unique=False)
        batch_op.create_index("ix_view_facts_timeline", ["batch_id", "kind", "date", "id"], unique=False)

    op.create_table(
        "view_fact_actors",
        sa.Column("fact_id", sa.Integer(), nullable=False),
        sa.Column("actor_key", sa.String(length=256), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["fact_id"],
            ["view_facts.id"],
            name=op.f("fk_view_fact_actors_fact_id_view_facts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("fact_id", "actor_key", "role", name=op.f("pk_view_fact_actors")),
    )
    with op.batch_alter_table("view_fact_actors", schema=None) as batch_op:
        batch_op.create_index("ix_view_fact_actors_actor", ["actor_key", "date", "fact_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("view_fact_actors", schema=None) as batch_op:
        batch_op.drop_index("ix_view_fact_actors_actor")

    op.drop_table("view_fact_actors")
    with op.batch_alter_table("view_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_view_facts_timeline")
        batch_op.drop_index(batch_op.f("ix_view_facts_proposal_id"))
        batch_op.drop_index(batch_op.f("ix_view_facts_item_id"))

    op.drop_table("view_facts")
    with op.batch_alter_table("view_actor_items", schema=None) as batch_op:
        batch_op.drop_index("ix_view_actor_items_batch")

    op.drop_table("view_actor_items")
    op.drop_table("view_proposal_terms")
    op.drop_table("view_proposals")
    with op.batch_alter_table("view_actors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_view_actors_surname"))

    op.drop_table("view_actors")
    with op.batch_alter_table("view_actor_names", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_view_actor_names_actor_key"))

    op.drop_table("view_actor_names")
