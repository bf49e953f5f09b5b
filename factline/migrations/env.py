"""Alembic environment: runs on the connection factline hands over, or on `sqlalchemy.url` offline."""

from __future__ import annotations

from alembic import context

from factline.database import factline_owns
from factline.tables import Base

config = context.config
connection = config.attributes.get("connection")

if connection is None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"), target_metadata=Base.metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        include_name=factline_owns,
    )
    with context.begin_transaction():
        context.run_migrations()
