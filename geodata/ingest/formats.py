"""Source formats and how each maps onto the incident model (:data:`geodata.model.schema.INCIDENT_COLUMNS`).

Three kinds of file are understood:

* **ACLED** exports, both column generations. Files from before ACLED's March 2023 change carry
  ``event_id_no_cnty``, ``data_id`` and ``iso3`` (dropped: they have no place in the model) and
  lack ``disorder_type``, ``civilian_targeting`` and ``tags`` (left empty). ``inter1``/``inter2``
  written as codes are turned into ACLED's text labels by validation; a numeric ``interaction``
  (e.g. ``17``) is turned into the current text form (``State forces-Civilians``) here.
* **UCDP GED** CSV, with or without its header row (49 columns); see :func:`map_ucdp`.
* **Any other CSV** through a :class:`ColumnMapping` (canonical column -> file column), chosen in
  the dashboard or given as a JSON file; mappings are saved and reused as JSON.

Every mapper returns a frame of the canonical columns (strings, not yet validated): validation
(:func:`geodata.ingest.validation.validate_incidents`) is the one place rows are judged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geodata._errors import InputError
from geodata.model.schema import INCIDENT_COLUMNS, INTER_CODES

ACLED = "acled"
UCDP = "ucdp"
MAPPING = "mapping"
FORMATS: tuple[str, ...] = (ACLED, UCDP, MAPPING)

#: Columns of ACLED's pre-March-2023 export that the model does not keep.
ACLED_LEGACY_ONLY: tuple[str, ...] = ("event_id_no_cnty", "data_id", "iso3")

#: UCDP GED CSV columns in release order (GED 22.1-24.1); headerless releases use this order.
UCDP_COLUMNS: tuple[str, ...] = (
    "id", "relid", "year", "active_year", "code_status", "type_of_violence", "conflict_dset_id",
    "conflict_new_id", "conflict_name", "dyad_dset_id", "dyad_new_id", "dyad_name", "side_a_dset_id",
    "side_a_new_id", "side_a", "side_b_dset_id", "side_b_new_id", "side_b", "number_of_sources",
    "source_article", "source_office", "source_date", "source_headline", "source_original",
    "where_prec", "where_coordinates", "where_description", "adm_1", "adm_2", "latitude", "longitude",
    "geom_wkt", "priogrid_gid", "country", "country_id", "region", "event_clarity", "date_prec",
    "date_start", "date_end", "deaths_a", "deaths_b", "deaths_civilians", "deaths_unknown", "best",
    "high", "low", "gwnoa", "gwnob",
)
_UCDP_SIGNATURE = frozenset({"date_start", "type_of_violence", "side_a", "best"})
_ACLED_SIGNATURE = frozenset({"event_date", "event_type", "sub_event_type", "actor1", "latitude", "longitude"})

#: UCDP type_of_violence -> (ACLED event type, sub-event type, disorder type, civilian targeting).
UCDP_VIOLENCE: dict[str, tuple[str, str, str, str]] = {
    "1": ("Battles", "Armed clash", "Political violence", ""),           # state-based
    "2": ("Battles", "Armed clash", "Political violence", ""),           # non-state
    "3": ("Violence against civilians", "Attack", "Political violence", "Civilian targeting"),  # one-sided
}
#: UCDP where_prec (1 exact … 7 sea/air) -> ACLED geo_precision (1 town, 2 near/district, 3 region).
UCDP_WHERE_PREC: dict[str, str] = {"1": "1", "2": "2", "3": "2", "4": "3", "5": "3", "6": "3", "7": "3"}
#: UCDP date_prec (1 day, 2 ≤6 days, 3 week, 4 month, 5 year) -> ACLED time_precision (1 day, 2 week, 3 month+).
UCDP_DATE_PREC: dict[str, str] = {"1": "1", "2": "2", "3": "2", "4": "3", "5": "3"}


class FormatError(InputError):
    """The file's format cannot be recognised, or a mapping does not fit the file."""


@dataclass
class ColumnMapping:
    """Canonical column -> column of the file; unmapped canonical columns stay empty.

    Attributes:
        columns: e.g. ``{"event_date": "Date", "latitude": "Lat"}``.
        name: a label for the saved mapping.
    """

    columns: dict[str, str] = field(default_factory=dict)
    name: str = ""

    def to_json(self) -> str:
        """The mapping as JSON text (what is saved and reused)."""
        return json.dumps({"name": self.name, "columns": self.columns}, ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> "ColumnMapping":
        """Parse a saved mapping.

        Accepts ``{"columns": {...}, "name": ...}`` or a bare ``{canonical: file column}`` object.
        Raises:
            FormatError: if the JSON is malformed or names a column the model does not have.
        """
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FormatError(f"the mapping is not valid JSON: {exc}") from exc
        if not isinstance(obj, dict):
            raise FormatError("the mapping must be a JSON object")
        cols = obj.get("columns", obj if "columns" not in obj else None)
        if not isinstance(cols, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in cols.items()):
            raise FormatError('the mapping must map column names to column names: {"columns": {"event_date": "Date"}}')
        cols = {k: v for k, v in cols.items() if k != "name" and v != ""}
        unknown = sorted(set(cols) - set(INCIDENT_COLUMNS))
        if unknown:
            raise FormatError(f"the mapping names columns the incident model does not have: {', '.join(unknown)}")
        return cls(columns=dict(cols), name=str(obj.get("name", "")) if "columns" in obj else "")

    @classmethod
    def load(cls, path: Path) -> "ColumnMapping":
        """Read a mapping JSON file.

        Raises:
            FormatError: if the file cannot be read or is not a valid mapping.
        """
        try:
            return cls.from_json(Path(path).read_text(encoding="utf-8-sig"))
        except OSError as exc:
            raise FormatError(f"cannot read mapping file {path}: {exc}") from exc

    def save(self, path: Path) -> None:
        """Write the mapping as JSON (UTF-8), atomically and to a regular file only.

        Raises:
            geodata._errors.OutputError: if ``path`` is a directory, device or FIFO, or cannot be written.
        """
        from geodata.export.files import write_bytes_atomic

        write_bytes_atomic(path, self.to_json().encode("utf-8"))


def looks_like_header(fields: list[str]) -> bool:
    """True when the first record names columns rather than holding data (any cell is a known name)."""
    known = set(INCIDENT_COLUMNS) | set(UCDP_COLUMNS) | set(ACLED_LEGACY_ONLY)
    return any(f.strip().lower() in known for f in fields)


def headerless_ucdp(fields: list[str]) -> bool:
    """True when a first record is UCDP GED data without a header: 49 fields, numeric id,
    type_of_violence 1-3."""
    return (
        len(fields) == len(UCDP_COLUMNS)
        and fields[0].strip().isdigit()
        and fields[UCDP_COLUMNS.index("type_of_violence")].strip() in UCDP_VIOLENCE
    )


def detect_format(columns: list[str]) -> str | None:
    """Recognise a file from its header.

    Args:
        columns: the header's column names.
    Returns:
        ``"acled"``, ``"ucdp"`` or ``None`` when a column mapping is needed.
    """
    names = {c.strip().lower() for c in columns}
    if _ACLED_SIGNATURE <= names:
        return ACLED
    if _UCDP_SIGNATURE <= names:
        return UCDP
    return None


def _interaction_labels() -> dict[str, str]:
    """ACLED numeric interaction codes (``17``, ``10``) -> current text (``State forces-Civilians``)."""
    out: dict[str, str] = {}
    for a, la in INTER_CODES.items():
        for b, lb in INTER_CODES.items():
            if a == 0 or (b and b < a):
                continue
            out[f"{a}{b}"] = f"{la} only" if b == 0 else f"{la}-{lb}"
    return out


_INTERACTION = _interaction_labels()


def map_acled(raw: pd.DataFrame) -> pd.DataFrame:
    """Bring an ACLED export (either generation) onto the canonical columns.

    Args:
        raw: the file as strings (:class:`geodata.ingest.reading.RawTable` ``frame``).
    Returns:
        Canonical columns in model order; columns the file lacks are empty strings.
    """
    lower = {c: c.strip().lower() for c in raw.columns}
    df = raw.rename(columns=lower)
    out = pd.DataFrame(index=df.index)
    for col in INCIDENT_COLUMNS:
        out[col] = df[col] if col in df.columns else ""
    inter = out["interaction"].astype(str).str.strip()
    coded = inter.map(_INTERACTION)
    out["interaction"] = coded.where(coded.notna(), inter)
    return out


def map_ucdp(raw: pd.DataFrame) -> pd.DataFrame:
    """Bring a UCDP GED table onto the canonical (ACLED-shaped) columns.

    Mapping choices:

    * ``id`` -> ``event_id_cnty`` as ``UCDP-<id>`` (never collides with ACLED ids such as ``XKX123``).
    * ``date_start`` -> ``event_date`` (the time part of ``2023-09-24 00:00:00.000`` is dropped);
      ``date_prec`` -> ``time_precision`` (1 -> 1 day, 2-3 -> 2 week, 4-5 -> 3 month or coarser).
      ``date_end`` is not kept: the model has one date per event.
    * ``type_of_violence`` -> ``event_type``/``sub_event_type``: 1 state-based and 2 non-state ->
      Battles / Armed clash; 3 one-sided -> Violence against civilians / Attack (with
      ``civilian_targeting`` = "Civilian targeting"); ``disorder_type`` is "Political violence".
      Any other value is kept as written so validation rejects it as an unknown event type.
    * ``side_a`` -> ``actor1``, ``side_b`` -> ``actor2``.
    * ``best`` -> ``fatalities`` (UCDP's best estimate; ``low``/``high`` are not kept).
    * ``where_prec`` -> ``geo_precision``: 1 -> 1, 2-3 -> 2, 4-7 -> 3.
    * ``country`` "Serbia (Yugoslavia)" -> "Serbia" (UCDP's historical label; the coordinates, not the
      label, decide the municipality); ``adm_1`` -> ``admin1``, ``adm_2`` -> ``admin2``,
      ``where_coordinates`` -> ``location``, ``where_description`` -> ``notes`` (with the source headline
      appended when present), ``source_office`` -> ``source``, ``region``, ``year``, ``latitude``,
      ``longitude`` as named.

    Args:
        raw: the file as strings, with UCDP column names (a headerless file gets :data:`UCDP_COLUMNS`).
    Returns:
        Canonical columns in model order (strings).
    """
    df = raw.rename(columns={c: c.strip().lower() for c in raw.columns})

    def col(name: str) -> pd.Series:
        return df[name].astype(str).str.strip() if name in df.columns else pd.Series("", index=df.index)

    out = pd.DataFrame(index=df.index)
    for c in INCIDENT_COLUMNS:
        out[c] = ""
    ident = col("id")
    out["event_id_cnty"] = np.where(ident.ne(""), "UCDP-" + ident, "")
    out["event_date"] = col("date_start").str.slice(0, 10)
    out["year"] = col("year")
    out["time_precision"] = col("date_prec").map(UCDP_DATE_PREC).fillna("")
    tov = col("type_of_violence")
    mapped = tov.map(UCDP_VIOLENCE)
    out["event_type"] = [m[0] if isinstance(m, tuple) else t for m, t in zip(mapped, tov)]
    out["sub_event_type"] = [m[1] if isinstance(m, tuple) else "" for m in mapped]
    out.loc[mapped.isna(), "sub_event_type"] = "Armed clash"  # let the event type carry the error
    out["disorder_type"] = [m[2] if isinstance(m, tuple) else "" for m in mapped]
    out["civilian_targeting"] = [m[3] if isinstance(m, tuple) else "" for m in mapped]
    out["actor1"] = col("side_a")
    out["actor2"] = col("side_b")
    out["country"] = col("country").str.replace(r"\s*\(Yugoslavia\)\s*$", "", regex=True)
    out["region"] = col("region")
    out["admin1"] = col("adm_1")
    out["admin2"] = col("adm_2")
    out["location"] = col("where_coordinates")
    out["latitude"] = col("latitude")
    out["longitude"] = col("longitude")
    out["geo_precision"] = col("where_prec").map(UCDP_WHERE_PREC).fillna("")
    out["source"] = col("source_office")
    headline = col("source_headline")
    desc = col("where_description")
    out["notes"] = np.where(headline.ne(""), np.where(desc.ne(""), desc + " — " + headline, headline), desc)
    out["fatalities"] = col("best")
    return out


def map_columns(raw: pd.DataFrame, mapping: ColumnMapping) -> pd.DataFrame:
    """Bring any table onto the canonical columns through a column mapping.

    Args:
        raw: the file as strings.
        mapping: canonical column -> file column.
    Returns:
        Canonical columns in model order; unmapped ones are empty strings.
    Raises:
        FormatError: if the mapping names a file column that the file does not have.
    """
    missing = sorted({v for v in mapping.columns.values() if v not in raw.columns})
    if missing:
        raise FormatError(f"the mapping uses columns the file does not have: {', '.join(missing)}; "
                          f"the file has: {', '.join(map(str, raw.columns))}")
    out = pd.DataFrame(index=raw.index)
    for c in INCIDENT_COLUMNS:
        src = mapping.columns.get(c)
        out[c] = raw[src] if src else ""
    return out


def suggest_mapping(columns: list[str]) -> ColumnMapping:
    """A starting mapping for an unknown file: file columns whose name matches a canonical one
    (ignoring case, spaces, dashes and underscores)."""
    def norm(s: str) -> str:
        return "".join(ch for ch in s.lower() if ch.isalnum())
    by_norm = {norm(c): c for c in columns}
    synonyms = {"event_date": ("date",), "latitude": ("lat",), "longitude": ("lon", "lng", "long"),
                "fatalities": ("deaths", "killed"), "notes": ("description",)}
    cols: dict[str, str] = {}
    for c in INCIDENT_COLUMNS:
        for cand in (c, *synonyms.get(c, ())):
            if norm(cand) in by_norm:
                cols[c] = by_norm[norm(cand)]
                break
    return ColumnMapping(cols)
