"""The dashboard's "Upload" tab: CSV file in, validation report out, new incidents on the map.

Only widgets are wired here; reading, detection, mapping, validation and storing are the pure
functions of :mod:`geodata.ingest` and :mod:`geodata.store`. Everything from the file is shown as
plain text (``st.text``, ``st.dataframe``), never as Markdown or HTML.
"""

from __future__ import annotations

import streamlit as st

from geodata.ingest import ColumnMapping, FormatError, IngestError, inspect_file, prepare, report_csv, store_prepared
from geodata.ingest.formats import suggest_mapping
from geodata.ingest.pipeline import load_boundaries_if_installed
from geodata.schema import INCIDENT_COLUMNS, REQUIRED_COLUMNS
from geodata.settings import Settings
from geodata.store import StoreError, open_store


def _mapping_editor(columns: list[str]) -> ColumnMapping | None:
    """Selectboxes (one per canonical column) to map an unknown file; save/load as JSON."""
    st.info("This file is neither an ACLED export nor UCDP GED. Choose which of its columns holds each field.")
    loaded = st.file_uploader("Load a saved column mapping (JSON)", type=["json"], key="upload_mapping_json")
    base = suggest_mapping(columns)
    if loaded is not None:
        try:
            base = ColumnMapping.from_json(loaded.getvalue().decode("utf-8-sig"))
        except (FormatError, UnicodeDecodeError) as exc:
            st.error("The mapping file cannot be used.")
            st.text(str(exc))
    options = [""] + columns
    chosen: dict[str, str] = {}
    grid = st.columns(3)
    for i, col in enumerate(INCIDENT_COLUMNS):
        default = base.columns.get(col, "")
        label = f"{col} (required)" if col in REQUIRED_COLUMNS else col
        with grid[i % 3]:
            pick = st.selectbox(label, options, index=options.index(default) if default in options else 0,
                                key=f"upload_map_{col}")
        if pick:
            chosen[col] = pick
    mapping = ColumnMapping(chosen, name="saved from the dashboard")
    st.download_button("Save this mapping (JSON)", mapping.to_json(), file_name="column_mapping.json",
                       mime="application/json")
    missing = [c for c in REQUIRED_COLUMNS if c not in chosen]
    if missing:
        st.warning("Map the required columns first: " + ", ".join(missing))
        return None
    return mapping


def _prepared(data: bytes, name: str, mapping: ColumnMapping | None, settings: Settings):
    """Prepare once per (file, mapping): widget clicks rerun the script, a 200 MB parse must not."""
    key = (hash(data), name, mapping.to_json() if mapping else "")
    cache = st.session_state.get("upload_prepared")
    if cache and cache[0] == key:
        return cache[1]
    bar = st.progress(0.0, text="reading")
    result = prepare(data, name, "mapping" if mapping else "auto", mapping,
                     municipalities=load_boundaries_if_installed(settings),
                     progress=lambda f, what: bar.progress(min(f / 0.6, 1.0), text=what))
    bar.empty()
    st.session_state["upload_prepared"] = (key, result)
    return result


def render(settings: Settings) -> None:
    """Draw the Upload tab.

    Args:
        settings: gives the store URL and the upload size limit (``max_upload_mb``).
    """
    st.subheader("Upload incidents (CSV)")
    st.caption("ACLED exports (either column generation), UCDP GED (with or without header), or any CSV through "
               f"a column mapping. Largest file: {settings.max_upload_mb} MB.")
    up = st.file_uploader("CSV file", type=["csv", "txt", "tsv"], key="upload_csv")
    if up is None:
        return
    if up.size > settings.max_upload_mb * 1024 * 1024:
        st.error(f"This file is {up.size / 1024 / 1024:.0f} MB; the limit is {settings.max_upload_mb} MB "
                 "(setting CONFLICTMAP_MAX_UPLOAD_MB). Split the file, or use `python -m geodata ingest FILE`.")
        return
    data = up.getvalue()
    try:
        info = inspect_file(data)
    except IngestError as exc:
        st.error("The file cannot be read.")
        st.text(str(exc))
        return
    st.text(f"Detected format: {info.format or 'unknown (needs a column mapping)'}; encoding: {info.encoding}; "
            f"delimiter: {info.delimiter!r}; {len(info.columns)} columns")
    mapping = None
    if info.format is None:
        mapping = _mapping_editor(info.columns)
        if mapping is None:
            return
    try:
        prepared = _prepared(data, up.name, mapping, settings)
    except IngestError as exc:
        st.error("The file cannot be used as it is.")
        st.text(str(exc))
        return
    valid = len(prepared.result.valid)
    st.text(f"{prepared.rows_read} rows read: {valid} valid, {prepared.rejected} rejected, "
            f"{len(prepared.result.warnings)} warnings.")
    st.text("Preview of the first rows as they will be stored:")
    st.dataframe(prepared.preview(20), hide_index=True)
    report = prepared.report()
    if not report.empty:
        st.text("Rejected rows and warnings (line = line in your file):")
        st.dataframe(report, hide_index=True)
        st.download_button("Download the report (CSV)", report_csv(report),
                           file_name=f"report_{up.name.rsplit('.', 1)[0]}.csv", mime="text/csv")
    if st.button("Store the valid rows", type="primary", disabled=valid == 0, key="upload_store"):
        bar = st.progress(0.0, text="storing")
        try:
            store = open_store(settings.db_url, create=True)
            try:
                done = store_prepared(prepared, store, settings,
                                      progress=lambda f, what: bar.progress(max(0.0, min((f - 0.6) / 0.4, 1.0)), text=what))
            finally:
                store.close()
        except StoreError as exc:
            st.error("Nothing was stored.")
            st.text(str(exc))
            return
        st.session_state.pop("upload_prepared", None)
        st.cache_data.clear()  # the map's cached incident layer must reload
        st.success(f"Upload {done.upload_id}: {done.accepted} new incidents are now on the map "
                   f"({done.duplicates} were already stored, {done.rejected} rejected).")
