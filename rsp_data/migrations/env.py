"""Alembic environment: the store's schema is rsp_data.schema.metadata.

Run through rsp_data.migrate (used by `python -m rsp_data init` and `make migrate`), which
hands over an open connection; there is no alembic.ini to keep in step.
"""

from alembic import context

from rsp_data.schema import include_object, metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
    include_object=include_object,  # the optional trigram indexes (schema.OPTIONAL_INDEXES)
)
with context.begin_transaction():
    context.run_migrations()
