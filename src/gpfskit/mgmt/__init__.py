"""The REST management service: Collection+JSON resources over the cluster, with tokens,
roles and asynchronous jobs.

    settings   directives the service reads (host, port, database, TLS, jobs)
    models     the SQLAlchemy tables (items, jobs, users, roles, tokens)
    store      engine, sessions, migrations applied on start
    cj         Collection+JSON documents in and out
    errors     the API's errors and the operators' coded messages
    resources  the resource registry: the one place a resource is declared (extension point)
    routes     the HTTP endpoints built from the registry
    auth       tokens, users, roles, throttled log-ins
    jobs       the job engine (Huey), job records, log capture, recovery
    discovery  populating the store from the cluster; the default placement rules
    app        the FastAPI application
    query      where/sort/projection/paging compiled to SQL

The service reaches the cluster only through :mod:`gpfskit.api` and :mod:`gpfskit.policy`.
"""
