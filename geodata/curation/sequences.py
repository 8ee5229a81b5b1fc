"""Sequences: incidents linked into a named story with ordered steps and a relation per step.

E.g. "Banjska attack, 24 Sep 2023": ambush of the patrol (start) → shootout at the monastery
(followed_by) → arrests (led_to) → weapons seizure (led_to). The bundled
``geodata/data/sequences.csv`` has one row per step (:data:`SEQUENCE_COLUMNS`).

:func:`step_view` is the step-through model shared by the dashboard page and the exported map:
for step *k* it says which incidents to show (steps 1…k, step *k* highlighted), the map extent
and the timeline window.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geodata._errors import DataError
from geodata.settings import BUNDLED_DIR, METRIC_CRS, WGS84
from geodata.curation.sources import curation_text
from geodata.ingest.validation import RowIssue

SEQUENCE_COLUMNS: tuple[str, ...] = ("sequence_id", "sequence_name", "step", "event_id_cnty", "relation", "summary")
RELATIONS: tuple[str, ...] = ("start", "followed_by", "led_to", "response_to", "part_of")
#: How each relation reads between two steps ("→ led to →").
RELATION_TEXT: dict[str, str] = {
    "start": "start", "followed_by": "followed by", "led_to": "led to", "response_to": "in response to",
    "part_of": "part of",
}
BUNDLED_SEQUENCES = BUNDLED_DIR / "sequences.csv"
_SEQ_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: Margin around a step's incidents on the map, metres (a single point still gets a readable extent).
EXTENT_MARGIN_M = 1_500.0
#: Days shown on the timeline before the first and after the current step.
TIMELINE_PAD_DAYS = 1


class SequenceDataError(DataError):
    """A sequences table cannot be used (missing columns, unreadable)."""


@dataclass(frozen=True)
class Step:
    """One step: its number (1…n), the incident, how it relates to the step before, and a summary."""

    step: int
    event_id_cnty: str
    relation: str
    summary: str


@dataclass(frozen=True)
class Sequence:
    """A named, ordered sequence of incidents."""

    sequence_id: str
    name: str
    steps: tuple[Step, ...]

    @property
    def event_ids(self) -> tuple[str, ...]:
        """Incident ids in step order (an id may recur at several steps)."""
        return tuple(s.event_id_cnty for s in self.steps)


@dataclass(frozen=True)
class StepView:
    """What to show at one step of a sequence.

    Attributes:
        step: the current step (1-based).
        current: the current :class:`Step`.
        shown_ids: incidents of steps 1…step (in order, no repeats).
        bounds: ``((south, west), (north, east))`` around the shown incidents, or ``None``.
        window: ``(first day, last day)`` for the timeline: the sequence's first date to this step's date, padded.
        incidents: rows of the shown incidents (``step`` column added), from the frame given.
    """

    step: int
    current: Step
    shown_ids: tuple[str, ...]
    bounds: tuple[tuple[float, float], tuple[float, float]] | None
    window: tuple[dt.date, dt.date] | None
    incidents: pd.DataFrame = field(repr=False)


def parse_sequences(raw: pd.DataFrame, known_ids: set[str] | None = None,
                    first_line: int = 2) -> tuple[list[Sequence], list[RowIssue]]:
    """Validate a sequences table and build the sequences.

    Rules: ``step`` is a positive integer, unique within its sequence; ``relation`` is one of
    :data:`RELATIONS` and only the first step may (and must) be ``start``; every row of one
    sequence has the same name. A bad row is reported (line, column, reason) and left out;
    its sequence keeps its good steps, renumbered in order.

    Raises:
        SequenceDataError: if a column is missing.
    """
    text = curation_text(raw, SEQUENCE_COLUMNS, "sequences", SequenceDataError)
    issues: list[RowIssue] = []
    rows: dict[str, list[tuple[int, Step]]] = {}
    names: dict[str, str] = {}
    for i, r in enumerate(text.itertuples(index=False)):
        line = first_line + i
        bad: list[tuple[str, str]] = []
        if not _SEQ_ID.match(r.sequence_id):
            bad.append(("sequence_id", "missing or not a plain identifier (letters, digits, - _ .)"))
        if not r.sequence_name:
            bad.append(("sequence_name", "missing name"))
        elif r.sequence_id in names and names[r.sequence_id] != r.sequence_name:
            bad.append(("sequence_name", f"differs from the name on earlier rows ({names[r.sequence_id]!r})"))
        try:
            step = int(r.step)
            if step < 1:
                raise ValueError
        except ValueError:
            step = 0
            bad.append(("step", f"not a positive whole number: {r.step!r}"))
        if step and any(s.step == step for _, s in rows.get(r.sequence_id, [])):
            bad.append(("step", f"step {step} appears twice in {r.sequence_id}"))
        if not r.event_id_cnty or (known_ids is not None and r.event_id_cnty not in known_ids):
            bad.append(("event_id_cnty", "missing incident id" if not r.event_id_cnty else f"unknown incident id {r.event_id_cnty!r}"))
        if r.relation not in RELATIONS:
            bad.append(("relation", f"unknown relation {r.relation!r}; one of {', '.join(RELATIONS)}"))
        if bad:
            issues.extend(RowIssue(line, col, why) for col, why in bad)
            continue
        names.setdefault(r.sequence_id, r.sequence_name)
        rows.setdefault(r.sequence_id, []).append((line, Step(step, r.event_id_cnty, r.relation, r.summary)))
    sequences: list[Sequence] = []
    for sid, items in rows.items():
        items.sort(key=lambda x: x[1].step)
        steps = []
        for n, (line, s) in enumerate(items, start=1):
            if (n == 1) != (s.relation == "start"):
                issues.append(RowIssue(line, "relation", "the first step must be 'start' and only the first"))
            steps.append(Step(n, s.event_id_cnty, s.relation, s.summary))
        sequences.append(Sequence(sid, names[sid], tuple(steps)))
    return sequences, sorted(issues, key=lambda e: e.line)


def load_bundled_sequences(path: Path | None = None) -> list[Sequence]:
    """The bundled sequences (empty when the file is absent); invalid rows are logged and left out.

    Raises:
        SequenceDataError: if the file is unreadable or lacks a column.
    """
    path = Path(path or BUNDLED_SEQUENCES)
    if not path.exists():
        return []
    from geodata.curation.sources import log_issues, read_curation_csv

    raw = read_curation_csv(path, SequenceDataError)

    sequences, issues = parse_sequences(raw)
    log_issues(path, issues)  # invalid rows are left out (the bundled-data tests require none)
    return sequences


def sequences_frame(sequences: list[Sequence]) -> pd.DataFrame:
    """Sequences as one row per step (:data:`SEQUENCE_COLUMNS`)."""
    rows = [(q.sequence_id, q.name, s.step, s.event_id_cnty, s.relation, s.summary) for q in sequences for s in q.steps]
    return pd.DataFrame(rows, columns=list(SEQUENCE_COLUMNS))


def membership(sequences: list[Sequence]) -> pd.DataFrame:
    """Per incident, the first sequence it belongs to: ``event_id_cnty``, ``sequence_id``, ``sequence``, ``sequence_step``.

    An incident in several sequences (or at several steps) is listed with the first sequence in
    the given order and its first step there, so exports carry one name and one integer.
    """
    seen: dict[str, tuple[str, str, int]] = {}
    for q in sequences:
        for s in q.steps:
            seen.setdefault(s.event_id_cnty, (q.sequence_id, q.name, s.step))
    return pd.DataFrame([(k, *v) for k, v in seen.items()],
                        columns=["event_id_cnty", "sequence_id", "sequence", "sequence_step"])


def find_sequence(sequences: list[Sequence], sequence_id: str) -> Sequence | None:
    """The sequence with this id, or ``None``."""
    return next((q for q in sequences if q.sequence_id == sequence_id), None)


def step_view(sequence: Sequence, incidents: pd.DataFrame, step: int) -> StepView:
    """The map and timeline content of one step.

    Args:
        sequence: the sequence.
        incidents: incident rows (``event_id_cnty``, ``event_date``, ``latitude``/``longitude`` or a
            point geometry); ids of the sequence not in it are skipped.
        step: 1…len(steps); values outside are clamped.
    Returns:
        A :class:`StepView`; the extent is computed in EPSG:32634 with :data:`EXTENT_MARGIN_M` around it.
    Raises:
        DataError: if the sequence has no steps.
    """
    if not sequence.steps:
        raise DataError(f"sequence {sequence.sequence_id} has no steps")
    k = min(max(int(step), 1), len(sequence.steps))
    shown = tuple(dict.fromkeys(s.event_id_cnty for s in sequence.steps[:k]))
    first_step: dict[str, int] = {}
    for s in sequence.steps[:k]:
        first_step.setdefault(s.event_id_cnty, s.step)
    rows = incidents[incidents["event_id_cnty"].isin(shown)].copy()
    rows["step"] = rows["event_id_cnty"].map(first_step).astype(int)
    rows = rows.sort_values("step", kind="stable")
    return StepView(k, sequence.steps[k - 1], shown, _bounds(rows), _window(sequence, incidents, k), rows)


def _bounds(rows: pd.DataFrame) -> tuple[tuple[float, float], tuple[float, float]] | None:
    if rows.empty:
        return None
    if isinstance(rows, gpd.GeoDataFrame) and rows.geometry is not None:
        pts = rows.geometry.to_crs(METRIC_CRS)
    else:
        pts = gpd.GeoSeries(gpd.points_from_xy(rows["longitude"].astype(float), rows["latitude"].astype(float)),
                            crs=WGS84).to_crs(METRIC_CRS)
    minx, miny, maxx, maxy = pts.total_bounds
    box = gpd.GeoSeries(gpd.points_from_xy([minx - EXTENT_MARGIN_M, maxx + EXTENT_MARGIN_M],
                                           [miny - EXTENT_MARGIN_M, maxy + EXTENT_MARGIN_M]),
                        crs=METRIC_CRS).to_crs(WGS84)
    (west, east), (south, north) = box.x.tolist(), box.y.tolist()
    return (round(south, 5), round(west, 5)), (round(north, 5), round(east, 5))


def _window(sequence: Sequence, incidents: pd.DataFrame, k: int) -> tuple[dt.date, dt.date] | None:
    dates = pd.to_datetime(incidents.set_index("event_id_cnty")["event_date"], errors="coerce")
    dates = dates[~dates.index.duplicated()]
    first = [dates.get(s.event_id_cnty) for s in sequence.steps]
    known = [d for d in first if d is not None and not pd.isna(d)]
    current = dates.get(sequence.steps[k - 1].event_id_cnty)
    if not known or current is None or pd.isna(current):
        return None
    pad = dt.timedelta(days=TIMELINE_PAD_DAYS)
    return min(known).date() - pad, current.date() + pad
