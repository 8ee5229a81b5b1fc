"""The analyst workflow's tables (migration 6) on either back-end: sources, verification, sequences, duplicates.

:class:`CurationStore` wraps an open store (:class:`geodata.store.base.BaseStore`, SQLite or
PostGIS) and uses only its shared primitives (``_write``, ``_rows``, ``mark``, ``_bump``), so
each statement here is written once for both databases. Rules (allowed transitions, who/why,
undo) come from the pure modules :mod:`geodata.curation.verification` and :mod:`geodata.curation.duplicates`:
every write loads the current history inside its transaction, asks the domain object what to
append, and appends it — the history tables themselves refuse UPDATE and DELETE (triggers).
Every write advances the store's data version, so open dashboards show it on their next rerun.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from geodata.curation.joined import Curation
from geodata.curation.duplicates import Decision, DecisionLog, DuplicateError
from geodata.curation.sequences import Sequence as IncidentSequence
from geodata.curation.sequences import Step
from geodata.curation.sources import (
    SOURCE_COLUMNS,
    Source,
    empty_sources,
    fallback_sources,
    independent_outlets,
)
from geodata.store.watch_sql import log_event
from geodata.curation.verification import (
    BUNDLED_WHO,
    DEFAULT_STATUS,
    StatusChange,
    VerificationError,
    VerificationLog,
    utc_now,
)

#: store_meta key holding the hash of the bundled curation last seeded.
SEED_KEY = "curation_seed"
_HISTORY_COLS = "id, event_id_cnty, old_status, new_status, who, changed_at, why, undoes"
_DECISION_COLS = "id, action, keep_id, alias_id, who, decided_at, why, undoes"


def _ts(value: object) -> dt.datetime:
    """A stored timestamp (ISO text from SQLite, datetime from PostgreSQL) as an aware UTC datetime."""
    ts = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)


def _day(value: object) -> dt.date | None:
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


class CurationStore:
    """Sources, statuses, sequences and duplicate decisions stored next to the incidents.

    Args:
        store: an open store at schema version 6 or later.
        extra_ids: incident ids that exist outside the store (the bundled file, while it is read
            from the file rather than seeded into the store).
        extra_sources: those incidents' own sources (:func:`geodata.curation.sources.fallback_sources`).
    """

    def __init__(self, store: Any, extra_ids: Iterable[str] = (), extra_sources: pd.DataFrame | None = None) -> None:
        self.store = store
        self.p = store.mark
        self.extra_ids = frozenset(extra_ids)
        self.extra_sources = empty_sources() if extra_sources is None else extra_sources

    # -- helpers -----------------------------------------------------------------------------------
    def _ts_param(self, when: dt.datetime) -> object:
        return when.isoformat() if self.store.dialect == "sqlite" else when

    def _lock(self, cur: Any) -> None:
        """Serialise curation writes on PostgreSQL (SQLite's BEGIN IMMEDIATE already does)."""
        if self.store.dialect == "postgres":
            cur.execute("SELECT pg_advisory_xact_lock(4026)")

    def _fetch(self, cur: Any, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        cur.execute(sql, list(params))
        return list(cur.fetchall())

    def incident_exists(self, event_id: str) -> bool:
        """True when an incident with this ``event_id_cnty`` is stored (indexed lookup by its key) or in ``extra_ids``.

        Raises:
            StoreError: if the store cannot be read.
        """
        return str(event_id) in self.extra_ids or bool(self.store._rows(f"SELECT 1 FROM incidents WHERE dedup_key = {self.p}", ("id:" + str(event_id),)))

    # -- sources -----------------------------------------------------------------------------------
    def sources(self, event_ids: Sequence[str] | None = None) -> pd.DataFrame:
        """Stored sources (:data:`SOURCE_COLUMNS`), all or of some incidents, in insertion order.

        Args:
            event_ids: only these incidents' sources (``None``: every incident's).
        Returns:
            One row per source, ``published`` a date or ``None``.
        Raises:
            StoreError: if the store cannot be read.
        """
        sql = f"SELECT {', '.join(SOURCE_COLUMNS)} FROM incident_sources"
        params: list[object] = []
        if event_ids is not None:
            ids = list(dict.fromkeys(str(i) for i in event_ids))
            if not ids:
                return empty_sources()
            sql += f" WHERE event_id_cnty IN ({', '.join([self.p] * len(ids))})"
            params = list(ids)
        rows = self.store._rows(sql + " ORDER BY id", params)
        if not rows:
            return empty_sources()
        df = pd.DataFrame(rows, columns=list(SOURCE_COLUMNS), dtype=object)  # None stays None (no NaN)
        df["published"] = df["published"].map(_day).astype(object)
        return df

    def _insert_sources(self, cur: Any, frame: pd.DataFrame, origin: str) -> int:
        p = self.p
        added = 0
        for r in frame.itertuples(index=False):
            pub = r.published.isoformat() if isinstance(r.published, dt.date) else None
            cur.execute(
                "INSERT INTO incident_sources (event_id_cnty, url, outlet, published, language, archive_url, origin) "
                f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}) ON CONFLICT (event_id_cnty, url) DO NOTHING",
                (str(r.event_id_cnty), str(r.url), str(r.outlet), pub, str(r.language or ""),
                 str(r.archive_url or ""), origin))
            added += max(cur.rowcount, 0)
        return added

    def add_sources(self, frame: pd.DataFrame, origin: str = "analyst") -> int:
        """Add validated sources (:func:`geodata.curation.sources.parse_sources`); a URL already listed for the incident is skipped.

        Args:
            frame: the sources (:data:`SOURCE_COLUMNS`).
            origin: who added them, stored with each ("analyst", "bundled").
        Returns:
            How many were added.
        Raises:
            StoreError: if the database refuses (nothing is added).
        """
        with self.store._write("the sources were not stored") as cur:
            added = self._insert_sources(cur, frame, origin)
            if added:
                self.store._bump(cur, "sources", targets=sorted(set(frame["event_id_cnty"].astype(str))))
        return added

    def outlets(self, event_id: str) -> int:
        """Independent outlets behind an incident: its listed sources, else its own ``source_url``.

        Args:
            event_id: the incident's ``event_id_cnty``.
        Returns:
            The number of independent outlets (:func:`geodata.curation.sources.independent_outlets`).
        Raises:
            StoreError: if the store cannot be read.
        """
        src = self.sources([event_id])
        if src.empty:
            rows = self.store._rows(f"SELECT event_id_cnty, source, source_url FROM incidents WHERE dedup_key = {self.p}",
                                    ("id:" + event_id,))
            src = fallback_sources(pd.DataFrame(rows, columns=["event_id_cnty", "source", "source_url"]))
        if src.empty and len(self.extra_sources):
            src = self.extra_sources[self.extra_sources["event_id_cnty"] == event_id]
        return independent_outlets([Source(event_id, str(r.url), str(r.outlet)) for r in src.itertuples(index=False)])

    # -- verification ------------------------------------------------------------------------------
    @staticmethod
    def _change(row: tuple[Any, ...]) -> StatusChange:
        return StatusChange(int(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]), _ts(row[5]), str(row[6]),
                            None if row[7] is None else int(row[7]))

    def history(self, event_id: str | None = None) -> list[StatusChange]:
        """Status changes, oldest first (of one incident, or all).

        Args:
            event_id: the incident's ``event_id_cnty``, or ``None`` for every incident.
        Raises:
            StoreError: if the store cannot be read.
        """
        where, params = ("", []) if event_id is None else (f" WHERE event_id_cnty = {self.p}", [event_id])
        return [self._change(r) for r in self.store._rows(
            f"SELECT {_HISTORY_COLS} FROM verification_history{where} ORDER BY id", params)]

    def statuses(self) -> dict[str, tuple[str, str]]:
        """Incident id -> (current status, reason) for incidents not simply ``reported``.

        Raises:
            StoreError: if the store cannot be read.
        """
        return {str(r[0]): (str(r[1]), str(r[2])) for r in self.store._rows(
            "SELECT event_id_cnty, status, reason FROM incident_status")}

    def status(self, event_id: str) -> str:
        """Current status of one incident (``reported`` when it has none stored).

        Args:
            event_id: the incident's ``event_id_cnty``.
        Raises:
            StoreError: if the store cannot be read.
        """
        rows = self.store._rows(f"SELECT status FROM incident_status WHERE event_id_cnty = {self.p}", (event_id,))
        return str(rows[0][0]) if rows else DEFAULT_STATUS

    def _log_in(self, cur: Any, event_id: str) -> VerificationLog:
        rows = self._fetch(cur, f"SELECT {_HISTORY_COLS} FROM verification_history WHERE event_id_cnty = {self.p} "
                                "ORDER BY id", (event_id,))
        return VerificationLog([self._change(r) for r in rows])

    def _append_change(self, cur: Any, c: StatusChange) -> StatusChange:
        p = self.p
        cur.execute(f"INSERT INTO verification_history (event_id_cnty, old_status, new_status, who, changed_at, why, undoes) "
                    f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}) RETURNING id",
                    (c.event_id_cnty, c.old_status, c.new_status, c.who, self._ts_param(c.at), c.why, c.undoes))
        new_id = int(cur.fetchone()[0])
        cur.execute(f"DELETE FROM incident_status WHERE event_id_cnty = {p}", (c.event_id_cnty,))
        if c.new_status != DEFAULT_STATUS:
            cur.execute(f"INSERT INTO incident_status (event_id_cnty, status, reason) VALUES ({p}, {p}, {p})",
                        (c.event_id_cnty, c.new_status, c.why))
        log_event(self.store, cur, "status", c.event_id_cnty, f"status {c.old_status} → {c.new_status}")
        self.store._bump(cur, "status", targets=(c.event_id_cnty,))
        return StatusChange(new_id, c.event_id_cnty, c.old_status, c.new_status, c.who, c.at, c.why, c.undoes)

    def change_status(self, event_id: str, status: str, who: str, why: str) -> StatusChange:
        """Check and record a status change (history row + current status, one transaction).

        Args:
            event_id: the incident's ``event_id_cnty``.
            status: the new status (:data:`geodata.curation.verification.STATUSES`).
            who, why: the analyst and the reason, both required.
        Returns:
            The recorded change (with its id).
        Raises:
            VerificationError: unknown incident, forbidden transition, too few sources, missing who/why.
            StoreError: if the database refuses (nothing is recorded).
        """
        if not self.incident_exists(event_id):
            raise VerificationError(f"no incident {event_id!r} in the store")
        outlets = self.outlets(event_id) if status == "corroborated" else None
        with self.store._write("the status change was not recorded") as cur:
            self._lock(cur)
            log = self._log_in(cur, event_id)
            return self._append_change(cur, log.change(event_id, status, who, why, outlets=outlets))

    def undo_status(self, event_id: str, who: str, why: str = "undo") -> StatusChange:
        """Revert the incident's latest change not yet undone (appends the reverse change).

        Args:
            event_id: the incident's ``event_id_cnty``.
            who, why: the analyst and the reason.
        Returns:
            The recorded reverse change.
        Raises:
            VerificationError: if there is nothing to undo.
            StoreError: if the database refuses (nothing is recorded).
        """
        with self.store._write("the undo was not recorded") as cur:
            self._lock(cur)
            log = self._log_in(cur, event_id)
            return self._append_change(cur, log.undo(event_id, who, why))

    # -- sequences ---------------------------------------------------------------------------------
    def sequences(self) -> list[IncidentSequence]:
        """Stored sequences with their steps in order, by sequence id.

        Raises:
            StoreError: if the store cannot be read.
        """
        names = self.store._rows("SELECT sequence_id, name FROM sequences ORDER BY sequence_id")
        steps: dict[str, list[Step]] = {}
        for sid, step, eid, rel, summary in self.store._rows(
                "SELECT sequence_id, step, event_id_cnty, relation, summary FROM sequence_steps ORDER BY sequence_id, step"):
            steps.setdefault(str(sid), []).append(Step(int(step), str(eid), str(rel), str(summary)))
        return [IncidentSequence(str(sid), str(name), tuple(steps.get(str(sid), []))) for sid, name in names]

    def _replace_sequences(self, cur: Any, sequences: Iterable[IncidentSequence], origin: str) -> None:
        p = self.p
        for q in sequences:
            cur.execute(f"DELETE FROM sequence_steps WHERE sequence_id = {p}", (q.sequence_id,))
            cur.execute(f"DELETE FROM sequences WHERE sequence_id = {p}", (q.sequence_id,))
            cur.execute(f"INSERT INTO sequences (sequence_id, name, origin) VALUES ({p}, {p}, {p})",
                        (q.sequence_id, q.name, origin))
            for s in q.steps:
                cur.execute(f"INSERT INTO sequence_steps (sequence_id, step, event_id_cnty, relation, summary) "
                            f"VALUES ({p}, {p}, {p}, {p}, {p})", (q.sequence_id, s.step, s.event_id_cnty, s.relation, s.summary))

    def save_sequences(self, sequences: Iterable[IncidentSequence], origin: str = "analyst") -> None:
        """Create or replace sequences (by id), one transaction.

        Args:
            sequences: the sequences to store.
            origin: who made them, stored with each ("analyst", "bundled").
        Raises:
            StoreError: if the database refuses (nothing is stored).
        """
        with self.store._write("the sequences were not stored") as cur:
            self._replace_sequences(cur, sequences, origin)
            self.store._bump(cur, "sequences")

    # -- duplicates --------------------------------------------------------------------------------
    def decisions(self) -> DecisionLog:
        """Every duplicate decision, oldest first.

        Raises:
            StoreError: if the store cannot be read.
        """
        return self._decisions(self.store._rows(f"SELECT {_DECISION_COLS} FROM duplicate_decisions ORDER BY id"))

    @staticmethod
    def _decisions(rows: list[tuple[Any, ...]]) -> DecisionLog:
        return DecisionLog([Decision(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), _ts(r[5]), str(r[6]),
                                     None if r[7] is None else int(r[7])) for r in rows])

    def aliases(self) -> dict[str, str]:
        """Merged-away id -> kept id, as currently in force.

        Raises:
            StoreError: if the store cannot be read.
        """
        return {str(a): str(k) for a, k in self.store._rows("SELECT alias_id, keep_id FROM incident_aliases")}

    def _record(self, cur: Any, make: Callable[[DecisionLog], Decision]) -> Decision:
        """Load the log in the transaction, let ``make(log)`` append one decision, store it and the aliases it implies."""
        p = self.p
        self._lock(cur)
        log = self._decisions(self._fetch(cur, f"SELECT {_DECISION_COLS} FROM duplicate_decisions ORDER BY id"))
        d = make(log)
        cur.execute(f"INSERT INTO duplicate_decisions (action, keep_id, alias_id, who, decided_at, why, undoes) "
                    f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}) RETURNING id",
                    (d.action, d.keep, d.alias, d.who, self._ts_param(d.at), d.why, d.undoes))
        stored_id = int(cur.fetchone()[0])
        if stored_id != d.decision_id:  # ids are the log's positions: a gap would confuse undo by number
            raise DuplicateError("the decision log is out of step with the store; try again")
        by_alias = {x.alias: x.decision_id for x in log.active() if x.action == "confirm"}
        cur.execute("DELETE FROM incident_aliases")
        for alias, keep in log.aliases().items():
            cur.execute(f"INSERT INTO incident_aliases (alias_id, keep_id, decision_id) VALUES ({p}, {p}, {p})",
                        (alias, keep, by_alias.get(alias, d.decision_id)))
        if d.action == "confirm":
            log_event(self.store, cur, "merge", d.alias, f"merged into {d.keep}")
        elif d.action == "undo":
            log_event(self.store, cur, "merge", d.alias, f"merge with {d.keep} undone")
        self.store._bump(cur, f"duplicates-{d.action}", targets=(d.keep, d.alias))
        return d

    def decide(self, action: str, keep: str, alias: str, who: str, why: str = "") -> Decision:
        """Record a confirm (merge ``alias`` into ``keep``) or dismiss of a suggested pair.

        Args:
            action: "confirm" or "dismiss".
            keep, alias: the pair's ``event_id_cnty`` values (``alias`` merged into ``keep`` on confirm).
            who, why: the analyst and the reason.
        Returns:
            The recorded decision.
        Raises:
            DuplicateError: unknown incident, same id twice, pair already decided.
            StoreError: if the database refuses (nothing is recorded).
        """
        unknown = [i for i in (keep, alias) if not self.incident_exists(i)]
        if unknown:
            raise DuplicateError(f"no incident {', '.join(unknown)} in the store")
        with self.store._write("the decision was not recorded") as cur:
            return self._record(cur, lambda log: log.decide(action, keep, alias, who, why))

    def undo_decision(self, decision_id: int, who: str, why: str = "undo") -> Decision:
        """Undo decision ``decision_id`` (appends an undo; the merge's aliases are lifted).

        Args:
            decision_id: the decision to undo.
            who, why: the analyst and the reason.
        Returns:
            The recorded undo.
        Raises:
            DuplicateError: no such decision, or it is no longer in force.
            StoreError: if the database refuses (nothing is recorded).
        """
        with self.store._write("the undo was not recorded") as cur:
            return self._record(cur, lambda log: log.undo(decision_id, who, why))

    # -- bundled seed and the joined view ----------------------------------------------------------
    def seed_bundled(self, sources: pd.DataFrame, verification: pd.DataFrame, sequences: list[IncidentSequence],
                     token: str) -> bool:
        """Load the bundled curation once per version of the bundled files (``token``), in one transaction.

        Sources are added (existing URLs kept); bundled sequences replaced; a bundled status is
        recorded (by :data:`geodata.curation.verification.BUNDLED_WHO`) only for incidents whose current
        status was not set by an analyst — an analyst's decision is never overwritten.

        Args:
            sources, verification, sequences: the bundled files' contents.
            token: the bundled files' version (:func:`bundled_token`).
        Returns:
            True when something was seeded, False when this version was already seeded.
        Raises:
            StoreError: if the database refuses (nothing is seeded).
        """
        if self.store.get_meta(SEED_KEY) == token:
            return False
        p = self.p
        with self.store._write("the bundled sources, statuses and sequences were not stored") as cur:
            self._lock(cur)
            cur.execute(f"SELECT value FROM store_meta WHERE key = {p}", (SEED_KEY,))
            row = cur.fetchone()
            if row is not None and row[0] == token:
                return False  # another process seeded it meanwhile
            self._insert_sources(cur, sources, "bundled")
            self._replace_sequences(cur, sequences, "bundled")
            now = utc_now()
            for r in verification.itertuples(index=False):
                log = self._log_in(cur, r.event_id_cnty)
                last = log.changes[-1] if log.changes else None
                if last is not None and last.who != BUNDLED_WHO:
                    continue
                if log.status(r.event_id_cnty) == r.status:
                    continue
                self._append_change(cur, StatusChange(0, r.event_id_cnty, log.status(r.event_id_cnty), r.status,
                                                      BUNDLED_WHO, now, r.reason or "bundled status"))
            cur.execute(f"DELETE FROM store_meta WHERE key = {p}", (SEED_KEY,))
            cur.execute(f"INSERT INTO store_meta (key, value) VALUES ({p}, {p})", (SEED_KEY, token))
            self.store._bump(cur, "bundled-curation")
        return True

    def curation(self) -> Curation:
        """Everything stored, as the :class:`geodata.curation.joined.Curation` that :func:`geodata.curation.joined.annotate` joins.

        Raises:
            StoreError: if the store cannot be read.
        """
        st = self.statuses()
        return Curation(sources=self.sources(), statuses={k: v[0] for k, v in st.items()},
                        reasons={k: v[1] for k, v in st.items()}, sequences=self.sequences(), aliases=self.aliases())


def bundled_token(paths: Iterable[Path]) -> str:
    """A hash of the bundled curation files' bytes (absent files count as empty).

    Args:
        paths: the bundled curation files.
    Returns:
        16 hex digits of the SHA-256 of their names and bytes.
    """
    h = hashlib.sha256()
    for path in paths:
        h.update(str(path.name).encode() + b"\0")
        try:
            h.update(path.read_bytes())
        except OSError:
            pass
    return h.hexdigest()[:16]


def open_curation(store: Any, extra_ids: Iterable[str] = (), extra_sources: pd.DataFrame | None = None) -> CurationStore:
    """A :class:`CurationStore` on ``store`` with the bundled curation seeded (once per version of the files).

    Args:
        store, extra_ids, extra_sources: as :class:`CurationStore`.
    Raises:
        DataError: if a bundled curation file has invalid rows.
        StoreError: if the store cannot be written.
    """
    from geodata.curation.sequences import BUNDLED_SEQUENCES, load_bundled_sequences
    from geodata.curation.sources import BUNDLED_SOURCES, load_bundled_sources
    from geodata.curation.verification import BUNDLED_VERIFICATION, load_bundled_verification

    cs = CurationStore(store, extra_ids, extra_sources)
    token = bundled_token((BUNDLED_SOURCES, BUNDLED_VERIFICATION, BUNDLED_SEQUENCES))
    if store.get_meta(SEED_KEY) != token:
        from geodata.model.actor import maintenance

        with maintenance():  # the bundled curation is the program's, whoever opened the store
            cs.seed_bundled(load_bundled_sources(), load_bundled_verification(), load_bundled_sequences(), token)
    return cs
