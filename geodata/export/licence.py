"""Licence-aware sharing: which dataset and licence each incident row carries, and what may leave.

Datasets and their terms:

* **conflictmap** (bundled ``geodata/data/incidents.csv``): compiled by the project from public
  reporting; every row cites its source (``source``, ``source_url``). Shared in full.
* **ACLED** (``sync acled``, and uploads in ACLED's format by default): ACLED's Terms of Use
  (https://acleddata.com/terms-of-use/) forbid passing the raw data to third parties or building
  a functional substitute, and allow maps and analyses that credit ACLED.
* **UCDP GED** (``sync ucdp``, UCDP-format uploads): CC BY 4.0
  (https://creativecommons.org/licenses/by/4.0/) — shared in full, with attribution.
* **Other uploads**: the licence the user declares; without a declaration the row is handled like
  ACLED data (the cautious choice: nothing restricted leaves by mistake).

**What leaves the dashboard by default (the one form chosen for ACLED rows):** points without
notes, actors and sources. ACLED rows keep their id, date, event type and sub-type, disorder
type, place names, coordinates, precision codes, fatalities and timestamp; the columns in
:data:`ACLED_WITHHELD` are emptied. Each exported row says its dataset and licence, and every
file that holds ACLED rows carries :data:`ACLED_ATTRIBUTION`. The explicit full-rows option
(``--full-rows``, or the dashboard's "full rows" checkbox) keeps every column for internal use,
and the file then states :data:`INTERNAL_USE_NOTICE` on its face.

Pure functions only: no I/O, no Streamlit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Licence:
    """One dataset's terms: ``dataset`` and ``name`` are written into every row; ``restricted``
    rows lose :data:`ACLED_WITHHELD` when shared."""

    dataset: str
    name: str
    url: str
    attribution: str
    restricted: bool


ACLED_TERMS_URL = "https://acleddata.com/terms-of-use/"
ACLED_ATTRIBUTION = ("Source: Armed Conflict Location & Event Data (ACLED), acleddata.com. "
                     f"Used under ACLED's Terms of Use ({ACLED_TERMS_URL}); "
                     "notes, actors and sources of ACLED events are withheld")
ACLED_ATTRIBUTION_FULL = ("Source: Armed Conflict Location & Event Data (ACLED), acleddata.com. "
                          f"Used under ACLED's Terms of Use ({ACLED_TERMS_URL})")

CONFLICTMAP = Licence("conflictmap", "conflictmap: compiled from public reporting, each row cites its source",
                      "", "Incidents compiled by conflictmap from public reporting (sources per row)", False)
ACLED = Licence("ACLED", "ACLED Terms of Use", ACLED_TERMS_URL, ACLED_ATTRIBUTION, True)
UCDP = Licence("UCDP GED", "CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/",
               "UCDP Georeferenced Event Dataset (GED), Uppsala Conflict Data Program, CC BY 4.0 "
               "(Sundberg & Melander 2013; Davies, Pettersson & Öberg 2023)", False)
UNDECLARED = Licence("upload", "not declared (handled like ACLED data)", "", ACLED_ATTRIBUTION, True)

LICENCES: dict[str, Licence] = {lic.dataset: lic for lic in (CONFLICTMAP, ACLED, UCDP)}

#: Columns emptied in restricted rows when shared: notes, actors and sources.
ACLED_WITHHELD: tuple[str, ...] = (
    "notes", "actor1", "assoc_actor_1", "actor2", "assoc_actor_2", "source", "source_scale", "source_url", "tags",
    "sources",  # the curation's list of reports (geodata.curation.joined)
)
INTERNAL_USE_NOTICE = ("INTERNAL USE ONLY: this file holds full ACLED rows (notes, actors, sources), which "
                       f"ACLED's Terms of Use ({ACLED_TERMS_URL}) do not allow to be passed to third parties.")

_ACLED_ID = re.compile(r"^[A-Z]{3}\d+$")


def licence_for_format(fmt: str, declared: str | None = None) -> Licence:
    """The licence of rows ingested in format ``fmt`` ("acled", "ucdp", "mapping", "bundled").

    Args:
        fmt: the upload's format.
        declared: what the user declared at upload (a licence name); wins for non-ACLED formats.
    Returns:
        ACLED's terms for ACLED-format files, CC BY 4.0 for UCDP, the declared licence (kept as an
        unrestricted :class:`Licence` when it names an open licence, else restricted) otherwise.
    """
    if fmt == "bundled":
        return CONFLICTMAP
    if fmt == "acled" and not declared:
        return ACLED
    if fmt == "ucdp" and not declared:
        return UCDP
    if declared:
        text = declared.strip()[:120]
        open_licence = bool(re.match(r"(?i)^(cc[- ]by|cc0|public domain|odbl|own data)", text))
        return Licence("upload", text, "", f"Uploaded data, licence declared as: {text}", not open_licence)
    return UNDECLARED


def row_licences(incidents: pd.DataFrame) -> pd.DataFrame:
    """Each row's ``dataset`` and ``licence`` (names) and whether it is ``restricted``.

    Uses the row's own ``dataset``/``licence`` columns where the store recorded them; otherwise
    infers: ``origin`` "bundled" or a ``CM-`` id -> conflictmap, a ``UCDP-`` id -> UCDP GED, an
    ACLED-style id (``XKX1234``) -> ACLED, anything else -> undeclared (handled like ACLED).

    Returns:
        A frame indexed like ``incidents`` with columns ``dataset``, ``licence``, ``restricted``.
    """
    n = len(incidents)
    ids = incidents["event_id_cnty"].astype(str).str.strip() if "event_id_cnty" in incidents else pd.Series([""] * n,
                                                                                                            index=incidents.index)
    origin = incidents["origin"].astype(str) if "origin" in incidents else pd.Series([""] * n, index=incidents.index)
    inferred = np.select(
        [origin.eq("bundled") | ids.str.startswith("CM-"), ids.str.startswith("UCDP-"), ids.str.match(_ACLED_ID.pattern)],
        [CONFLICTMAP.dataset, UCDP.dataset, ACLED.dataset], default=UNDECLARED.dataset)
    dataset = pd.Series(inferred, index=incidents.index, dtype=object)
    if "dataset" in incidents:
        stored = incidents["dataset"].fillna("").astype(str)
        dataset = stored.where(stored.ne(""), dataset)
    by_name = {**LICENCES, UNDECLARED.dataset: UNDECLARED}
    lic_name = dataset.map(lambda d: by_name.get(d, UNDECLARED).name)
    restricted = dataset.map(lambda d: by_name.get(d, UNDECLARED).restricted).astype(bool)
    if "licence" in incidents:
        stored = incidents["licence"].fillna("").astype(str)
        has = stored.ne("")
        lic_name = stored.where(has, lic_name)
        # A declared upload licence decides for itself; ACLED's terms stay restricted whatever the cell says.
        declared = has & dataset.eq(UNDECLARED.dataset)
        restricted = restricted.where(~declared, stored.map(lambda s: licence_for_format("mapping", s).restricted))
    return pd.DataFrame({"dataset": dataset, "licence": lic_name, "restricted": restricted.astype(bool)})


def shareable(incidents: pd.DataFrame, full_rows: bool = False) -> pd.DataFrame:
    """The incident rows as they may leave the dashboard.

    Restricted rows (ACLED, undeclared uploads) lose the :data:`ACLED_WITHHELD` columns' values
    unless ``full_rows``; every row gains ``dataset``, ``licence`` and ``terms`` columns. ``terms``
    carries the attribution the row's source requires (ACLED's, UCDP's) and, in a full-rows export,
    :data:`INTERNAL_USE_NOTICE` on every restricted row — so CSV, GeoJSON and GeoPackage files say on
    their face what they hold.

    Args:
        incidents: incident frame or GeoDataFrame (geometry kept).
        full_rows: keep every column (internal use; see :data:`INTERNAL_USE_NOTICE`).
    Returns:
        A copy; the input is not changed.
    """
    out = incidents.copy()
    lic = row_licences(incidents)
    if not full_rows and lic["restricted"].any():
        mask = lic["restricted"].to_numpy()
        for col in ACLED_WITHHELD:
            if col in out.columns:
                values = out[col].astype(object).to_numpy(copy=True)
                values[mask] = ""
                out[col] = values
    out["dataset"] = lic["dataset"].to_numpy()
    out["licence"] = lic["licence"].to_numpy()
    terms = np.where(lic["dataset"].eq(UCDP.dataset), UCDP.attribution, "").astype(object)
    restricted_text = INTERNAL_USE_NOTICE + " " + ACLED_ATTRIBUTION_FULL if full_rows else ACLED_ATTRIBUTION
    terms[lic["restricted"].to_numpy()] = restricted_text
    out["terms"] = terms
    return out


def attributions(incidents: pd.DataFrame, full_rows: bool = False) -> list[str]:
    """The attribution lines a file holding ``incidents`` must carry (ACLED, UCDP), in a fixed order."""
    if incidents is None or len(incidents) == 0:
        return []
    present = set(row_licences(incidents)["dataset"])
    out: list[str] = []
    if present & {ACLED.dataset, UNDECLARED.dataset}:
        out.append(ACLED_ATTRIBUTION_FULL if full_rows else ACLED_ATTRIBUTION)
    if UCDP.dataset in present:
        out.append(UCDP.attribution)
    return out


def needs_notice(incidents: pd.DataFrame, full_rows: bool) -> bool:
    """True when a full-rows export actually carries restricted rows (and must say so on its face)."""
    return bool(full_rows and incidents is not None and len(incidents) and row_licences(incidents)["restricted"].any())


def licence_summary(incidents: pd.DataFrame) -> pd.DataFrame:
    """Rows per dataset and licence (for an export's licence table and the Data sources page)."""
    lic = row_licences(incidents)
    return (lic.groupby(["dataset", "licence"], sort=True).size().rename("rows").reset_index()
            if len(lic) else pd.DataFrame(columns=["dataset", "licence", "rows"]))


def declared_licence(text: object) -> str:
    """A licence an uploader declared, as stored: printable characters only, trimmed, at most 120.

    Args:
        text: what the user typed (``--licence`` or the Upload page); ``None`` or "" for none.
    Returns:
        The cleaned text; "" means "not declared" (ACLED-format files then default to ACLED's terms).
    """
    return "".join(ch for ch in str(text or "") if ch.isprintable()).strip()[:120]
