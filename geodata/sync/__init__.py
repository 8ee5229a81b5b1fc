"""Live sources: pull ACLED and UCDP GED from their APIs into the incident store (issue 12).

Modules: :mod:`~geodata.sync.http` (session, retries, errors), :mod:`~geodata.sync.acled`,
:mod:`~geodata.sync.ucdp` (the two APIs), :mod:`~geodata.sync.rows` (API rows -> validated incident
rows), :mod:`~geodata.sync.engine` (one sync), :mod:`~geodata.sync.cli` (``python -m geodata sync``),
:mod:`~geodata.sync.credentials` (secrets). The store side is :mod:`geodata.store.sync_sql`.
"""
