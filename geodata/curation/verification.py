"""Verification status per incident, with an append-only history of who changed it, when and why.

Statuses (as in Atlos/Ushahidi-style verification workflows):

* ``reported`` — one report, not yet checked (every incident starts here);
* ``corroborated`` — two or more *independent* outlets report it (:func:`geodata.curation.sources.independent_outlets`);
* ``verified`` — an analyst checked it against the sources;
* ``disputed`` — reports conflict (e.g. on the figures); popups show the figures as disputed;
* ``retracted`` — the report was withdrawn or shown wrong; kept for the record, not deleted.

A change is never edited or removed: :class:`VerificationLog` only appends :class:`StatusChange`
records; an undo is a new record that restores the status before the undone change and names it.
The store keeps the same records in its ``verification_history`` table.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from geodata._errors import DataError, InputError
from geodata.settings import BUNDLED_DIR
from geodata.curation.sources import curation_text
from geodata.ingest.validation import RowIssue

STATUSES: tuple[str, ...] = ("reported", "corroborated", "verified", "disputed", "retracted")
DEFAULT_STATUS = "reported"
#: Plain-language meaning of each status (legend, popups, help text).
STATUS_TEXT: dict[str, str] = {
    "reported": "Reported (one source, not yet checked)",
    "corroborated": "Corroborated (two or more independent sources)",
    "verified": "Verified by an analyst",
    "disputed": "Disputed (reports conflict)",
    "retracted": "Retracted",
}
#: status -> statuses it may change to. Retracted is final except for reinstating it as reported;
#: every status can become disputed or retracted when new reports arrive.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "reported": ("corroborated", "verified", "disputed", "retracted"),
    "corroborated": ("reported", "verified", "disputed", "retracted"),
    "verified": ("corroborated", "disputed", "retracted"),
    "disputed": ("reported", "corroborated", "verified", "retracted"),
    "retracted": ("reported",),
}
VERIFICATION_COLUMNS: tuple[str, ...] = ("event_id_cnty", "status", "reason")
BUNDLED_VERIFICATION = BUNDLED_DIR / "verification.csv"
#: Who is recorded for the statuses that come with the bundled data.
BUNDLED_WHO = "conflictmap (bundled data)"
MAX_NOTE_CHARS = 2_000
MAX_WHO_CHARS = 120
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class VerificationError(InputError):
    """A status change that is not allowed (unknown status, forbidden transition, missing who/why)."""


@dataclass(frozen=True)
class StatusChange:
    """One entry of the append-only history.

    Attributes:
        change_id: position in the history (1, 2, …; the store's row id).
        event_id_cnty: the incident.
        old_status, new_status: before and after.
        who: the analyst (or "conflictmap (bundled data)").
        at: when, UTC.
        why: the reason, as given.
        undoes: ``change_id`` of the change this one reverts, else ``None``.
    """

    change_id: int
    event_id_cnty: str
    old_status: str
    new_status: str
    who: str
    at: dt.datetime
    why: str
    undoes: int | None = None


def clean_text(value: object, what: str, limit: int) -> str:
    """``value`` stripped, checked to be non-empty, short enough and free of control characters.

    Raises:
        VerificationError: naming ``what`` and the problem.
    """
    text = str(value or "").strip()
    if not text:
        raise VerificationError(f"{what} is required")
    if len(text) > limit:
        raise VerificationError(f"{what} is longer than {limit} characters")
    if _CONTROL.search(text.replace("\n", " ")):
        raise VerificationError(f"{what} contains control characters")
    return text


def check_transition(old: str, new: str, outlets: int | None = None) -> None:
    """Raise unless ``old`` -> ``new`` is allowed.

    Args:
        old, new: statuses.
        outlets: independent outlets reporting the incident; ``corroborated`` needs two or more
            (``None`` skips the check, e.g. for a store that has no sources yet).
    Raises:
        VerificationError: for an unknown status, the same status, a forbidden transition or too few sources.
    """
    if new not in STATUSES:
        raise VerificationError(f"unknown status {new!r}; one of {', '.join(STATUSES)}")
    if new == old:
        raise VerificationError(f"the status is already {new}")
    if new not in TRANSITIONS.get(old, ()):
        allowed = ", ".join(TRANSITIONS.get(old, ())) or "nothing"
        raise VerificationError(f"a {old} incident cannot become {new} (allowed: {allowed})")
    if new == "corroborated" and outlets is not None and outlets < 2:
        raise VerificationError(f"corroborated needs two or more independent sources; this incident has {outlets}")


@dataclass
class VerificationLog:
    """The history of status changes (append-only) and the current status it implies.

    Attributes:
        changes: every :class:`StatusChange`, oldest first.
    """

    changes: list[StatusChange] = field(default_factory=list)

    def status(self, event_id: str) -> str:
        """Current status of an incident (``reported`` when it has no history)."""
        for c in reversed(self.changes):
            if c.event_id_cnty == event_id:
                return c.new_status
        return DEFAULT_STATUS

    def statuses(self) -> dict[str, str]:
        """Current status of every incident that has a history."""
        return {c.event_id_cnty: c.new_status for c in self.changes}

    def history(self, event_id: str) -> list[StatusChange]:
        """The changes of one incident, oldest first."""
        return [c for c in self.changes if c.event_id_cnty == event_id]

    def _append(self, change: StatusChange) -> StatusChange:
        change = replace(change, change_id=len(self.changes) + 1)
        self.changes.append(change)
        return change

    def change(self, event_id: str, new: str, who: str, why: str, *, outlets: int | None = None,
               at: dt.datetime | None = None) -> StatusChange:
        """Record a status change after checking it.

        Args:
            event_id: the incident.
            new: the new status.
            who, why: the analyst and the reason (both required).
            outlets: independent outlets (see :func:`check_transition`).
            at: when (default: now, UTC).
        Returns:
            The appended :class:`StatusChange`.
        Raises:
            VerificationError: if the change is not allowed or who/why are missing.
        """
        who = clean_text(who, "who", MAX_WHO_CHARS)
        why = clean_text(why, "the reason (note)", MAX_NOTE_CHARS)
        old = self.status(event_id)
        check_transition(old, new, outlets)
        return self._append(StatusChange(0, event_id, old, new, who, at or utc_now(), why))

    def undo(self, event_id: str, who: str, why: str = "undo", at: dt.datetime | None = None) -> StatusChange:
        """Revert the incident's latest change that is not itself undone, by appending its reverse.

        Repeated undos walk back through the history. Transition rules are not re-checked: an undo
        restores a state that was valid.

        Raises:
            VerificationError: if the incident has no change to undo.
        """
        target = latest_undoable(self.history(event_id))
        if target is None:
            raise VerificationError(f"{event_id} has no status change to undo")
        who = clean_text(who, "who", MAX_WHO_CHARS)
        why = clean_text(why, "the reason (note)", MAX_NOTE_CHARS)
        return self._append(StatusChange(0, event_id, target.new_status, target.old_status, who,
                                         at or utc_now(), why, undoes=target.change_id))


def latest_undoable(history: list[StatusChange]) -> StatusChange | None:
    """The latest change of one incident's history that is not an undo and not already undone (an undo stack)."""
    undone = {c.undoes for c in history if c.undoes is not None}
    for c in reversed(history):
        if c.undoes is None and c.change_id not in undone:
            return c
    return None


def utc_now() -> dt.datetime:
    """Now, UTC, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def parse_verification(raw: pd.DataFrame, known_ids: set[str] | None = None,
                       first_line: int = 2) -> tuple[pd.DataFrame, list[RowIssue]]:
    """Validate a bundled statuses table (:data:`VERIFICATION_COLUMNS`).

    Returns:
        ``(valid rows, issues)``: one issue (line, column, reason) per bad cell; an id listed twice
        keeps its first row.
    Raises:
        DataError: if a column is missing.
    """
    text = curation_text(raw, VERIFICATION_COLUMNS, "verification", DataError)
    issues: list[RowIssue] = []
    keep: list[int] = []
    seen: set[str] = set()
    for i, (eid, status, reason) in enumerate(text.itertuples(index=False)):
        line = first_line + i
        bad = []
        if not eid or (known_ids is not None and eid not in known_ids):
            bad.append(("event_id_cnty", "missing incident id" if not eid else f"unknown incident id {eid!r}"))
        elif eid in seen:
            bad.append(("event_id_cnty", f"{eid} listed twice"))
        if status not in STATUSES:
            bad.append(("status", f"unknown status {status!r}; one of {', '.join(STATUSES)}"))
        if status in STATUSES and status != DEFAULT_STATUS and not reason:
            bad.append(("reason", "a status other than reported needs a reason"))
        if _CONTROL.search(reason.replace("\n", " ")):
            bad.append(("reason", "contains control characters"))
        if bad:
            issues.extend(RowIssue(line, col, why) for col, why in bad)
            continue
        seen.add(eid)
        keep.append(i)
    return text.iloc[keep].reset_index(drop=True), issues


def load_bundled_verification(path: Path | None = None) -> pd.DataFrame:
    """The bundled statuses' valid rows (empty when the file is absent); invalid rows are logged and left out.

    Raises:
        DataError: if the file cannot be read or lacks a column.
    """
    path = Path(path or BUNDLED_VERIFICATION)
    if not path.exists():
        return pd.DataFrame({c: pd.Series(dtype=object) for c in VERIFICATION_COLUMNS})
    from geodata.curation.sources import log_issues, read_curation_csv

    raw = read_curation_csv(path, DataError)

    valid, issues = parse_verification(raw)
    log_issues(path, issues)  # invalid rows are left out (the bundled-data tests require none)
    return valid


def seed_changes(bundled: pd.DataFrame, at: dt.datetime) -> Iterable[StatusChange]:
    """The bundled statuses as history entries (from ``reported``, by :data:`BUNDLED_WHO`); ``reported`` rows add nothing."""
    for row in bundled.itertuples(index=False):
        if row.status != DEFAULT_STATUS:
            yield StatusChange(0, row.event_id_cnty, DEFAULT_STATUS, row.status, BUNDLED_WHO, at, row.reason)


def log_from_bundled(bundled: pd.DataFrame, at: dt.datetime | None = None) -> VerificationLog:
    """A :class:`VerificationLog` holding the bundled statuses."""
    log = VerificationLog()
    for c in seed_changes(bundled, at or utc_now()):
        log._append(c)
    return log


def status_reasons(bundled: pd.DataFrame) -> dict[str, str]:
    """Incident id -> the bundled reason for its status (what a popup shows for a disputed figure)."""
    return {r.event_id_cnty: r.reason for r in bundled.itertuples(index=False) if r.reason}
