"""Alembic environment: migrations run on the connection :func:`gpfskit.mgmt.store.migrate`
hands over (there is no alembic.ini; the service applies them on start)."""

from alembic import context

from gpfskit.mgmt.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
