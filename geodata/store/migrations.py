"""The store's schema, as an ordered list of forward migrations for SQLite and PostgreSQL/PostGIS.

A store records every migration it has applied in ``schema_version``; opening a store applies
the missing ones in order, each in its own transaction. Never edit a released migration: append
a new one.
"""

from __future__ import annotations

from dataclasses import dataclass

from geodata.model.schema import FLOAT_COLUMNS, INCIDENT_COLUMNS, INT_COLUMNS


@dataclass(frozen=True)
class Migration:
    """One schema step: ``version`` (1, 2, …), a description and the statements per dialect."""

    version: int
    description: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]


def _incident_columns(dialect: str) -> str:
    parts = []
    for c in INCIDENT_COLUMNS:
        if c == "event_date":
            t = "TEXT NOT NULL" if dialect == "sqlite" else "DATE NOT NULL"
        elif c in INT_COLUMNS:
            t = "INTEGER" if dialect == "sqlite" else "BIGINT"
        elif c in FLOAT_COLUMNS:
            t = "REAL NOT NULL" if dialect == "sqlite" else "DOUBLE PRECISION NOT NULL"
        else:
            t = "TEXT NOT NULL DEFAULT ''"
        parts.append(f"{c} {t}")
    return ",\n    ".join(parts)


_UPLOADS_SQLITE = """
CREATE TABLE uploads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    format TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    rows_read INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    warnings INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'complete',
    undone_at TEXT
)"""

_UPLOADS_PG = """
CREATE TABLE uploads (
    id BIGSERIAL PRIMARY KEY,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    format TEXT NOT NULL,
    uploaded_at TIMESTAMPTZ NOT NULL,
    rows_read BIGINT NOT NULL DEFAULT 0,
    accepted BIGINT NOT NULL DEFAULT 0,
    rejected BIGINT NOT NULL DEFAULT 0,
    duplicates BIGINT NOT NULL DEFAULT 0,
    warnings BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'complete',
    undone_at TIMESTAMPTZ
)"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1, "uploads and incidents, deduplicated by key",
        sqlite=(
            _UPLOADS_SQLITE,
            f"""CREATE TABLE incidents (
    id INTEGER PRIMARY KEY,
    upload_id INTEGER NOT NULL REFERENCES uploads(id),
    dedup_key TEXT NOT NULL,
    source_line INTEGER,
    {_incident_columns("sqlite")}
)""",
            "CREATE UNIQUE INDEX incidents_dedup_key ON incidents (dedup_key)",
            "CREATE INDEX incidents_upload ON incidents (upload_id)",
        ),
        postgres=(
            "CREATE EXTENSION IF NOT EXISTS postgis",
            _UPLOADS_PG,
            f"""CREATE TABLE incidents (
    id BIGSERIAL PRIMARY KEY,
    upload_id BIGINT NOT NULL REFERENCES uploads(id),
    dedup_key TEXT NOT NULL,
    source_line BIGINT,
    {_incident_columns("postgres")},
    geom geometry(Point, 4326) NOT NULL
)""",
            "CREATE UNIQUE INDEX incidents_dedup_key ON incidents (dedup_key)",
            "CREATE INDEX incidents_upload ON incidents (upload_id)",
        ),
    ),
    Migration(
        2, "indexes on the filter columns; spatial index",
        sqlite=tuple(
            f"CREATE INDEX incidents_{c} ON incidents ({c})" for c in ("event_date", "event_type", "actor1", "fatalities")
        ),
        postgres=tuple(
            f"CREATE INDEX incidents_{c} ON incidents ({c})" for c in ("event_date", "event_type", "actor1", "fatalities")
        ) + ("CREATE INDEX incidents_geom ON incidents USING GIST (geom)",),
    ),
)

MIGRATIONS += (
    Migration(
        3, "municipality stored per incident (indexed); change counter; store settings",
        sqlite=(
            "ALTER TABLE incidents ADD COLUMN municipality TEXT",
            "ALTER TABLE incidents ADD COLUMN admin2_mismatch INTEGER",
            "CREATE INDEX incidents_municipality ON incidents (municipality)",
            "CREATE TABLE data_version (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)",
            "INSERT INTO data_version (id, n) VALUES (1, 0)",
            "CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "INSERT INTO store_meta (key, value) VALUES ('store_id', lower(hex(randomblob(8))))",
        ),
        postgres=(
            "ALTER TABLE incidents ADD COLUMN municipality TEXT",
            "ALTER TABLE incidents ADD COLUMN admin2_mismatch SMALLINT",
            "CREATE INDEX incidents_municipality ON incidents (municipality)",
            "CREATE TABLE data_version (id INTEGER PRIMARY KEY CHECK (id = 1), n BIGINT NOT NULL)",
            "INSERT INTO data_version (id, n) VALUES (1, 0)",
            "CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "INSERT INTO store_meta (key, value) VALUES ('store_id', substr(md5(random()::text || clock_timestamp()::text), 1, 16))",
        ),
    ),
    Migration(
        4, "provenance per row per upload (upload_rows), for exact undo; covering index for map reads (SQLite)",
        sqlite=(
            "CREATE TABLE upload_rows (upload_id INTEGER NOT NULL REFERENCES uploads(id), "
            "incident_id INTEGER NOT NULL REFERENCES incidents(id), PRIMARY KEY (upload_id, incident_id)) WITHOUT ROWID",
            "CREATE INDEX upload_rows_incident ON upload_rows (incident_id)",
            "INSERT INTO upload_rows (upload_id, incident_id) SELECT upload_id, id FROM incidents",
            "UPDATE data_version SET n = n + 1",
            # A covering index for the aggregated map's columns: the no-filter selection of a
            # million incidents scans this narrow index instead of the wide rows (about 2-4x faster).
            "CREATE INDEX incidents_map ON incidents "
            "(event_type, fatalities, latitude, longitude, admin2, municipality, upload_id)",
        ),
        postgres=(
            "CREATE TABLE upload_rows (upload_id BIGINT NOT NULL REFERENCES uploads(id), "
            "incident_id BIGINT NOT NULL REFERENCES incidents(id), PRIMARY KEY (upload_id, incident_id))",
            "CREATE INDEX upload_rows_incident ON upload_rows (incident_id)",
            "INSERT INTO upload_rows (upload_id, incident_id) SELECT upload_id, id FROM incidents",
            "UPDATE data_version SET n = n + 1",
        ),
    ),
)


def _sync_tables(dialect: str) -> tuple[str, ...]:
    """Migration 5 (sync): dataset/licence/source_extra per incident, sync_state, sync_changes."""
    ts = "TEXT" if dialect == "sqlite" else "TIMESTAMPTZ"
    pk = "INTEGER PRIMARY KEY AUTOINCREMENT" if dialect == "sqlite" else "BIGSERIAL PRIMARY KEY"
    big = "INTEGER" if dialect == "sqlite" else "BIGINT"
    return (
        "ALTER TABLE incidents ADD COLUMN dataset TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE incidents ADD COLUMN licence TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE incidents ADD COLUMN source_extra TEXT NOT NULL DEFAULT ''",
        # Rows stored before: the upload's format says where they came from (geodata.export.licence).
        "UPDATE incidents SET dataset = CASE (SELECT format FROM uploads WHERE uploads.id = incidents.upload_id) "
        "WHEN 'acled' THEN 'ACLED' WHEN 'ucdp' THEN 'UCDP GED' WHEN 'bundled' THEN 'conflictmap' ELSE 'upload' END, "
        "licence = CASE (SELECT format FROM uploads WHERE uploads.id = incidents.upload_id) "
        "WHEN 'acled' THEN 'ACLED Terms of Use' WHEN 'ucdp' THEN 'CC BY 4.0' "
        "WHEN 'bundled' THEN 'conflictmap: compiled from public reporting, each row cites its source' "
        "ELSE 'not declared (handled like ACLED data)' END",
        "CREATE INDEX incidents_dataset ON incidents (dataset)",
        f"""CREATE TABLE sync_state (
    source TEXT PRIMARY KEY,
    last_sync_at {ts} NOT NULL,
    cursor TEXT NOT NULL DEFAULT '{{}}',
    upload_id {big},
    fetched {big} NOT NULL DEFAULT 0,
    new {big} NOT NULL DEFAULT 0,
    updated {big} NOT NULL DEFAULT 0,
    deleted {big} NOT NULL DEFAULT 0,
    rejected {big} NOT NULL DEFAULT 0
)""",
        f"""CREATE TABLE sync_changes (
    id {pk},
    source TEXT NOT NULL,
    upload_id {big},
    dedup_key TEXT NOT NULL,
    change TEXT NOT NULL,
    changed_at {ts} NOT NULL,
    previous TEXT NOT NULL DEFAULT ''
)""",
        "CREATE INDEX sync_changes_key ON sync_changes (dedup_key)",
    )


MIGRATIONS += (
    Migration(5, "sync: dataset, licence and kept source fields per incident; sync_state; sync_changes",
              sqlite=_sync_tables("sqlite"), postgres=_sync_tables("postgres")),
)

#: The newest schema this code knows (migrations may leave gaps: other branches reserve numbers).
LATEST_VERSION: int = max(m.version for m in MIGRATIONS)

# -- 6: the analyst workflow (sources, verification, sequences, duplicate decisions) ---------------
#: Append-only tables: a trigger refuses UPDATE and DELETE, so the history cannot be rewritten
#: by any client, not only by conflictmap's own code.
_APPEND_ONLY = ("verification_history", "duplicate_decisions")


def _curation_tables(dialect: str) -> tuple[str, ...]:
    """Statements of migration 6 for ``dialect`` ("sqlite" or "postgres")."""
    pk = "INTEGER PRIMARY KEY AUTOINCREMENT" if dialect == "sqlite" else "BIGSERIAL PRIMARY KEY"
    ts = "TEXT" if dialect == "sqlite" else "TIMESTAMPTZ"
    day = "TEXT" if dialect == "sqlite" else "DATE"
    ref = "INTEGER" if dialect == "sqlite" else "BIGINT"
    tables = (
        f"""CREATE TABLE incident_sources (
    id {pk},
    event_id_cnty TEXT NOT NULL,
    url TEXT NOT NULL,
    outlet TEXT NOT NULL,
    published {day},
    language TEXT NOT NULL DEFAULT '',
    archive_url TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL DEFAULT 'bundled',
    UNIQUE (event_id_cnty, url)
)""",
        f"""CREATE TABLE verification_history (
    id {pk},
    event_id_cnty TEXT NOT NULL,
    old_status TEXT NOT NULL,
    new_status TEXT NOT NULL,
    who TEXT NOT NULL,
    changed_at {ts} NOT NULL,
    why TEXT NOT NULL,
    undoes {ref} REFERENCES verification_history(id)
)""",
        "CREATE INDEX verification_history_incident ON verification_history (event_id_cnty, id)",
        # The current status per incident (absent = reported), kept in the same transaction as the
        # history: the status filter reads one indexed row instead of the latest history entry.
        "CREATE TABLE incident_status (event_id_cnty TEXT PRIMARY KEY, status TEXT NOT NULL, reason TEXT NOT NULL)",
        "CREATE INDEX incident_status_status ON incident_status (status)",
        "CREATE TABLE sequences (sequence_id TEXT PRIMARY KEY, name TEXT NOT NULL, origin TEXT NOT NULL DEFAULT 'bundled')",
        """CREATE TABLE sequence_steps (
    sequence_id TEXT NOT NULL REFERENCES sequences(sequence_id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    event_id_cnty TEXT NOT NULL,
    relation TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (sequence_id, step)
)""",
        "CREATE INDEX sequence_steps_incident ON sequence_steps (event_id_cnty)",
        f"""CREATE TABLE duplicate_decisions (
    id {pk},
    action TEXT NOT NULL CHECK (action IN ('confirm', 'dismiss', 'undo')),
    keep_id TEXT NOT NULL,
    alias_id TEXT NOT NULL,
    who TEXT NOT NULL,
    decided_at {ts} NOT NULL,
    why TEXT NOT NULL,
    undoes {ref} REFERENCES duplicate_decisions(id)
)""",
        # Current merges (alias -> kept id), rewritten with every decision in the same transaction.
        f"CREATE TABLE incident_aliases (alias_id TEXT PRIMARY KEY, keep_id TEXT NOT NULL, decision_id {ref} NOT NULL)",
        "CREATE INDEX incident_aliases_keep ON incident_aliases (keep_id)",
    )
    if dialect == "sqlite":
        guards = tuple(
            f"CREATE TRIGGER {t}_append_only_{op.lower()} BEFORE {op} ON {t} "
            f"BEGIN SELECT RAISE(ABORT, '{t} is append-only'); END"
            for t in _APPEND_ONLY for op in ("UPDATE", "DELETE"))
    else:
        guards = (
            "CREATE OR REPLACE FUNCTION conflictmap_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$",
        ) + tuple(
            f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
            "FOR EACH ROW EXECUTE FUNCTION conflictmap_append_only()" for t in _APPEND_ONLY)
    return tables + guards + ("UPDATE data_version SET n = n + 1",)


MIGRATIONS += (
    Migration(
        6, "analyst workflow: incident sources, verification history and status, sequences, duplicate decisions and aliases",
        sqlite=_curation_tables("sqlite"),
        postgres=_curation_tables("postgres"),
    ),
)
LATEST_VERSION = max(m.version for m in MIGRATIONS)

# -- 8: a log of what each data-version step was (7 is left to the ingest work) ---------------------
MIGRATIONS += (
    Migration(
        8, "data_changes: what each step of the data version was (an upload, or any other change)",
        sqlite=("CREATE TABLE data_changes (n INTEGER PRIMARY KEY, kind TEXT NOT NULL, upload_id INTEGER)",
                "UPDATE data_version SET n = n + 1"),
        postgres=("CREATE TABLE data_changes (n BIGINT PRIMARY KEY, kind TEXT NOT NULL, upload_id BIGINT)",
                  "UPDATE data_version SET n = n + 1"),
    ),
)
LATEST_VERSION = max(m.version for m in MIGRATIONS)

# -- 11: per-incident change log and watch areas (issue 20) -----------------------------------------


def _watch_tables(dialect: str) -> tuple[str, ...]:
    """Statements of migration 11: ``change_log`` (what arrived or changed when) and ``watch_areas``."""
    pk = "INTEGER PRIMARY KEY AUTOINCREMENT" if dialect == "sqlite" else "BIGSERIAL PRIMARY KEY"
    big = "INTEGER" if dialect == "sqlite" else "BIGINT"
    real = "REAL" if dialect == "sqlite" else "DOUBLE PRECISION"
    return (
        # One row per upload (its rows are upload_rows/incidents.upload_id: an upload of a million rows
        # writes one log row), one row per incident for everything else. Row-level entries keep a
        # snapshot so a removed incident can still be described and located.
        f"""CREATE TABLE change_log (
    id {pk},
    n {big} NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    change TEXT NOT NULL CHECK (change IN ('new', 'changed', 'removed')),
    upload_id {big},
    event_id_cnty TEXT,
    what TEXT NOT NULL DEFAULT '',
    event_date TEXT,
    event_type TEXT,
    location TEXT,
    fatalities {big},
    latitude {real},
    longitude {real},
    actors TEXT,
    dataset TEXT,
    origin_upload {big}
)""",
        "CREATE INDEX change_log_at ON change_log (at)",
        f"""CREATE TABLE watch_areas (
    id {pk},
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref TEXT NOT NULL DEFAULT '',
    km {real},
    geometry TEXT NOT NULL,
    filters TEXT NOT NULL DEFAULT '{{}}',
    cursor {big} NOT NULL DEFAULT 0,
    cursor_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (owner, name)
)""",
        "UPDATE data_version SET n = n + 1",
    )


MIGRATIONS += (
    Migration(11, "change_log (per-incident: what arrived, changed or was removed, when) and watch_areas",
              sqlite=_watch_tables("sqlite"), postgres=_watch_tables("postgres")),
)
LATEST_VERSION = max(m.version for m in MIGRATIONS)

# -- 9: what a sync changed, row by row, so that undoing the sync restores it exactly ---------------
#: The row copy keeps every column the incidents table had at schema 8 (the restore names them).
MIGRATIONS += (
    Migration(
        9, "sync_before: each incident row as it was before a sync updated or deleted it (exact undo of a sync)",
        sqlite=("CREATE TABLE sync_before AS SELECT 0 AS sync_upload_id, '' AS change, i.* FROM incidents i WHERE 0",
                "CREATE INDEX sync_before_upload ON sync_before (sync_upload_id)"),
        postgres=("CREATE TABLE sync_before AS SELECT CAST(0 AS BIGINT) AS sync_upload_id, CAST('' AS TEXT) AS change, "
                  "i.* FROM incidents i WITH NO DATA",
                  "CREATE INDEX sync_before_upload ON sync_before (sync_upload_id)"),
    ),
)
LATEST_VERSION = max(m.version for m in MIGRATIONS)

# -- 10: the audit log (issue 19): append-only, hash-chained (geodata/store/audit_sql.py) --------------
_AUDIT_COLUMNS = ("at TEXT NOT NULL, who TEXT NOT NULL, role TEXT NOT NULL, action TEXT NOT NULL, "
                  "targets TEXT NOT NULL, data_version {big} NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL")
MIGRATIONS += (
    Migration(
        10, "audit_log: who did what, when, at which data version; append-only and hash-chained",
        sqlite=(f"CREATE TABLE audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, {_AUDIT_COLUMNS.format(big='INTEGER')})",
                *(f"CREATE TRIGGER audit_log_no_{op.lower()} BEFORE {op} ON audit_log "
                  "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END" for op in ("UPDATE", "DELETE"))),
        postgres=(f"CREATE TABLE audit_log (id BIGSERIAL PRIMARY KEY, {_AUDIT_COLUMNS.format(big='BIGINT')})",
                  "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                  "FOR EACH ROW EXECUTE FUNCTION conflictmap_append_only()"),
    ),
)
LATEST_VERSION = max(m.version for m in MIGRATIONS)

# -- 12: who may do what (issue 19; geodata/model/roles.py) --------------------------------------------------
MIGRATIONS += (
    Migration(
        12, "users: e-mail and role (viewer, analyst, admin); see geodata/model/roles.py",
        sqlite=("CREATE TABLE users (email TEXT PRIMARY KEY, role TEXT NOT NULL "
                "CHECK (role IN ('viewer', 'analyst', 'admin')), added_at TEXT NOT NULL, added_by TEXT NOT NULL)",),
        postgres=("CREATE TABLE users (email TEXT PRIMARY KEY, role TEXT NOT NULL "
                  "CHECK (role IN ('viewer', 'analyst', 'admin')), added_at TEXT NOT NULL, added_by TEXT NOT NULL)",),
    ),
)
LATEST_VERSION = max(m.version for m in MIGRATIONS)
