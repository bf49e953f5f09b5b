"""Alembic migrations of factline's database; `factline.database.upgrade_to_head` applies them."""
