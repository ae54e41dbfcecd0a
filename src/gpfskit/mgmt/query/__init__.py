"""Collection queries (``where``, ``sort``, ``projection``, ``max_results``, ``page``) compiled
to SQL: nothing loads a table into Python.

    q = parse_collection_query(Space, where='{"exposers.filesystem": "mmfs1"}',
                               sort="name,-created", max_results="10", page="2")
    items = session.scalars(q.apply(select(Space))).all()
    total = session.scalar(q.count(select(Space)))     # X-Total-Count
    q.fields(names)                                     # the data fields after projection

Any malformed query, or one naming an unknown field, raises :class:`QueryError` whose text says
what is wrong (the service answers 400 with it). The syntax is in ``docs/rest-queries.md``.

    errors      QueryError
    fields      dotted field paths resolved against the models (``__query_hidden__``)
    values      query values coerced to column types
    conditions  the condition tree and its compilation to one WHERE clause
    mongo       ``where`` as Mongo-style JSON
    expression  ``where`` as a Python-style expression (ast, whitelist, never eval)
    regex       ``$regex`` patterns both databases share; REGEXP for SQLite
    sorting     ``sort`` to ORDER BY
    projection  ``projection`` to the fields rendered
    paging      ``max_results`` and ``page``
    collection  CollectionQuery and parse_collection_query
"""

from gpfskit.mgmt.query.collection import CollectionQuery, parse_collection_query
from gpfskit.mgmt.query.errors import QueryError
from gpfskit.mgmt.query.regex import install_sqlite_regexp

__all__ = ["CollectionQuery", "QueryError", "install_sqlite_regexp", "parse_collection_query"]
