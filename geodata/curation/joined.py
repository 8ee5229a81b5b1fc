"""What analysts add to incidents — sources, verification status, sequences, merges — joined onto a selection.

:class:`Curation` holds the curation tables (from the store when it has them, else from the
bundled files); :func:`annotate` adds to an incident frame the columns popups, the table and the
exports show:

* ``verification_status`` (text), ``status_reason`` (the latest why);
* ``sources`` (list of dicts: url, outlet, published, language, archive_url) and ``source_count``;
* ``sequence`` (name of the first sequence the incident is in, "" if none), ``sequence_step`` (int, 0 if none);
* ``aliases`` (ids merged into this incident, "; "-joined) — merged-away rows are dropped.

:func:`for_export` turns the ``sources`` list into what each file format can carry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd

from geodata.curation.duplicates import apply_merges
from geodata.curation.sequences import Sequence, load_bundled_sequences, membership
from geodata.curation.sources import (
    Source,
    empty_sources,
    fallback_sources,
    load_bundled_sources,
    sources_by_incident,
)
from geodata.curation.verification import (
    DEFAULT_STATUS,
    load_bundled_verification,
    status_reasons,
)

#: Columns :func:`annotate` adds.
CURATION_COLUMNS: tuple[str, ...] = (
    "verification_status", "status_reason", "sources", "source_count", "sequence", "sequence_step", "aliases",
)


@dataclass(frozen=True, eq=False)
class Curation:
    """The curation tables.

    Attributes:
        sources: one row per (incident, report) (:data:`geodata.curation.sources.SOURCE_COLUMNS`).
        statuses: incident id -> current status (absent = ``reported``).
        reasons: incident id -> why it has that status.
        sequences: named sequences.
        aliases: merged-away id -> kept id.
    """

    sources: pd.DataFrame = field(default_factory=empty_sources)
    statuses: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    sequences: list[Sequence] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)


def bundled_curation() -> Curation:
    """The curation that ships with the bundled data (empty parts when a file is absent).

    Raises:
        DataError: if a bundled curation file has invalid rows.
    """
    verification = load_bundled_verification()
    return Curation(
        sources=load_bundled_sources(),
        statuses={r.event_id_cnty: r.status for r in verification.itertuples(index=False)},
        reasons=status_reasons(verification),
        sequences=load_bundled_sequences(),
    )


def annotate(incidents: pd.DataFrame, curation: Curation) -> pd.DataFrame:
    """Add :data:`CURATION_COLUMNS` to a selection (a copy; the index is kept).

    Incidents without listed sources get their own ``source``/``source_url`` as their one source.
    """
    out, src = apply_merges(incidents, curation.sources, curation.aliases)
    ids = out["event_id_cnty"].astype(str)
    missing = ~ids.isin(set(src["event_id_cnty"].astype(str))) if len(src) else pd.Series(True, index=out.index)
    src = pd.concat([src, fallback_sources(out[missing.to_numpy()])], ignore_index=True) if missing.any() else src
    grouped = sources_by_incident(src)
    status = ids.map(pd.Series(curation.statuses, dtype=object)).astype(object)  # hash join, not a Python call per row
    out["verification_status"] = status.where(status.notna(), DEFAULT_STATUS)
    reason = ids.map(pd.Series(curation.reasons, dtype=object)).astype(object)
    out["status_reason"] = reason.where(reason.notna(), "")
    out["sources"] = pd.Series([[s.as_dict() for s in grouped.get(i, [])] for i in ids], index=out.index, dtype=object)
    out["source_count"] = out["sources"].map(len).astype("int64")
    member = membership(curation.sequences).set_index("event_id_cnty")
    names = ids.map(member["sequence"]).astype(object)
    out["sequence"] = names.where(names.notna(), "")
    out["sequence_step"] = ids.map(member["sequence_step"]).fillna(0).astype("int64")
    return out


def sources_text(sources: list[dict[str, str | None]]) -> str:
    """Sources as one text cell: "Outlet (YYYY-MM-DD, lang) <url>" joined by " | " (CSV's joined column)."""
    parts = []
    for s in sources or []:
        meta = ", ".join(v for v in (s.get("published"), s.get("language")) if v)
        archive = f" [archive: {s['archive_url']}]" if s.get("archive_url") else ""
        parts.append(f"{s.get('outlet', '')}{f' ({meta})' if meta else ''} <{s.get('url', '')}>{archive}")
    return " | ".join(parts)


def for_export(incidents: pd.DataFrame, fmt: str) -> pd.DataFrame:
    """The annotated selection shaped for one file format.

    Args:
        incidents: output of :func:`annotate` (a frame without the columns is returned unchanged).
        fmt: ``"geojson"`` (``sources`` stays a JSON list of objects), ``"gpkg"`` (``sources`` as JSON
            text: GeoPackage has no list type) or ``"csv"`` (``sources`` as one joined text cell).
    Returns:
        A copy with ``verification_status``, ``sources``, ``source_count``, ``sequence``,
        ``sequence_step`` (and ``aliases``); ``status_reason`` kept as text.
    """
    if "sources" not in incidents:
        return incidents
    out = incidents.copy()
    if fmt == "csv":
        out["sources"] = out["sources"].map(sources_text).astype(object)
    elif fmt == "gpkg":
        out["sources"] = out["sources"].map(lambda v: json.dumps(v, ensure_ascii=False)).astype(object)
    return out


def sources_table(incidents: pd.DataFrame) -> pd.DataFrame:
    """One row per (incident, source) of an annotated selection: the CSV export's second file."""
    rows = [{"event_id_cnty": eid, **s} for eid, items in zip(incidents["event_id_cnty"], incidents["sources"]) for s in items]
    return pd.DataFrame(rows, columns=["event_id_cnty", "url", "outlet", "published", "language", "archive_url"])


def incident_sources(curation: Curation, event_id: str) -> list[Source]:
    """The sources of one incident (after merges), oldest first."""
    _, src = apply_merges(pd.DataFrame({"event_id_cnty": [event_id]}), curation.sources, curation.aliases)
    return sources_by_incident(src).get(event_id, [])
