"""Alembic's environment for the service store: migrations run on the connection `roundabout.store.schema`
hands over (in `config.attributes["connection"]`), inside its transaction."""

from alembic import context

from roundabout.store.tables import StoreTables

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=StoreTables().meta, render_as_batch=True)
context.run_migrations()
