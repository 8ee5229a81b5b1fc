"""CSV that is safe to open in a spreadsheet (Excel, LibreOffice, Google Sheets).

Every CSV conflictmap writes — data exports and validation reports — goes through
:func:`spreadsheet_csv`: UTF-8 with a byte-order mark (so Excel shows ë, ç, č, š, đ), every text
cell that a spreadsheet would read as a formula prefixed with ``'`` (OWASP's advice against CSV
injection), and every text cell quoted so a stray carriage return cannot split a row.
"""

from __future__ import annotations

import csv

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix ``'`` to every text cell that a spreadsheet would read as a formula.

    Only text (object/string) columns are touched, so numbers such as latitude or a negative
    fatality count stay numbers.

    Args:
        df: any table.
    Returns:
        A copy with dangerous cells neutralised.
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
            continue
        # Plain booleans: on an empty string column ``map`` would give a string dtype (issue 18, row 5).
        is_text = pd.Series([isinstance(v, str) for v in s], index=s.index, dtype=bool)
        risky = pd.Series([t and v.startswith(FORMULA_PREFIXES) for t, v in zip(is_text, s)], index=s.index,
                          dtype=bool)
        if risky.any():
            s = s.astype(object).copy()
            s[risky] = "'" + s[risky].astype(str)
            out[col] = s
    return out


def spreadsheet_csv(df: pd.DataFrame) -> bytes:
    """The table as formula-safe, fully quoted UTF-8-with-BOM CSV bytes (numbers stay numbers)."""
    return neutralise_formulas(df).to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC).encode("utf-8-sig")
