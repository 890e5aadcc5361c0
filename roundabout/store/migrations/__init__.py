"""Versioned migrations of the service store (Alembic), run by `roundabout.store.schema.migrate`."""
