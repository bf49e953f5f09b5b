"""The procrastinate job queue's tables and functions, on PostgreSQL (`FACTLINE_BATCH_QUEUE`).

procrastinate's schema file for the pinned release (3.10), applied as it ships: one script of
tables, types and PL/pgSQL functions, run through the driver's simple-query protocol, which takes
several statements at once. A later procrastinate release brings its own migration scripts; they
become migrations after this one. SQLite has no such queue: nothing to do there.

Revision ID: 0005_procrastinate_schema
Revises: 0004_view_page_indexes
Create Date: 2026-12-05 02:40:00
"""

from __future__ import annotations

from typing import Any

from alembic import op
from sqlalchemy.util import await_only

revision = "0005_procrastinate_schema"
down_revision = "0004_view_page_indexes"
branch_labels = None
depends_on = None


def _run_script(script: str) -> None:
    """Through asyncpg itself: SQLAlchemy prepares each statement, and a prepared one holds one."""
    driver: Any = op.get_bind().connection.driver_connection
    await_only(driver.execute(script))


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Imported here: loading procrastinate costs memory a SQLite service never needs.
        from procrastinate.schema import SchemaManager

        _run_script(SchemaManager.get_schema())


_DROP = """
DO $$
DECLARE name text;
BEGIN
    FOR name IN SELECT p.oid::regprocedure::text FROM pg_proc p
                WHERE p.proname LIKE 'procrastinate%' AND p.pronamespace = current_schema()::regnamespace
    LOOP
        EXECUTE 'DROP FUNCTION IF EXISTS ' || name || ' CASCADE';
    END LOOP;
END;
$$;
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
    procrastinate_workers CASCADE;
DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type, procrastinate_job_status;
"""


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run_script(_DROP)
