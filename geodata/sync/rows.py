"""API rows -> canonical incident rows, through the same mapping and validation as file uploads.

ACLED rows go through :func:`geodata.ingest.formats.map_acled`, UCDP rows through
:func:`~geodata.ingest.formats.map_ucdp`, and both through
:func:`geodata.ingest.validation.validate_incidents`: text and numeric inter codes are both accepted,
columns the model does not have are ignored, and a bad row is rejected with its position in the
pull ("record N") without stopping the others.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from geodata.ingest import formats
from geodata.sync.ucdp import KEPT_FIELDS
from geodata.ingest.validation import ValidationResult, validate_incidents


@dataclass
class Pulled:
    """Validated rows of one pull.

    Attributes:
        result: validation outcome; ``result.valid["line"]`` is the record's 1-based position.
        extras: per valid row, JSON text of source fields kept beyond the model ("" when none).
    """

    result: ValidationResult
    extras: list[str]

    @property
    def rejected(self) -> int:
        """Records rejected by validation."""
        return len(self.result.rejected_lines)


def _cell(value: Any) -> str:
    """An API value as the text a CSV cell would hold ("" for null; 17 and 17.0 both "17")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def records_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """API records -> a frame of strings with lower-case column names (every key any record has)."""
    columns: dict[str, None] = {}
    for r in records:
        for k in r:
            columns.setdefault(str(k).strip().lower(), None)
    rows = [{str(k).strip().lower(): _cell(v) for k, v in r.items()} for r in records]
    return pd.DataFrame(rows, columns=list(columns), dtype=object).fillna("")


def prepare_records(records: list[dict[str, Any]], source: str) -> Pulled:
    """Map and validate the records of one pull.

    Args:
        records: rows as the API sent them.
        source: "acled" or "ucdp".
    Returns:
        A :class:`Pulled`; when the same event arrives twice (paging while the data changes), the
        later record is kept.
    Raises:
        ValueError: for an unknown ``source`` (a programming error).
    """
    raw = records_frame(records)
    if source == "acled":
        mapped = formats.map_acled(raw) if len(raw) else formats.map_acled(pd.DataFrame(columns=["event_date"]))
    elif source == "ucdp":
        mapped = formats.map_ucdp(raw) if len(raw) else formats.map_ucdp(pd.DataFrame(columns=["id"]))
    else:
        raise ValueError(f"unknown source {source!r}")
    result = validate_incidents(mapped, list(range(1, len(mapped) + 1)))
    valid = result.valid
    ids = valid["event_id_cnty"].astype(str)
    keep = ~(ids.ne("") & ids.duplicated(keep="last"))
    result.valid = valid.loc[keep].reset_index(drop=True)
    extras: list[str] = []
    if source == "ucdp" and len(result.valid):
        for line in result.valid["line"].astype(int):
            rec = raw.iloc[line - 1]
            kept = {k: rec[k] for k in KEPT_FIELDS if k in raw.columns and rec[k] != ""}
            extras.append(json.dumps(kept, sort_keys=True) if kept else "")
    else:
        extras = [""] * len(result.valid)
    return Pulled(result, extras)
