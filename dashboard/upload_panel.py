"""The dashboard's Upload page: CSV file in, validation report out, new incidents on the map.

Only widgets are wired here; reading, validation, storing and undo go through
:mod:`dashboard.data`. Everything from the file is shown as plain text (``st.text``,
``st.dataframe``), never as Markdown or HTML. After storing, the page reruns: the sidebar, map,
charts and table read the store's new data version, and this page shows the new counts and offers
to undo the upload (with a confirmation).
"""

from __future__ import annotations

import hashlib

import streamlit as st

from dashboard import data
from dashboard.text import md_escape
from geodata._errors import ConflictmapError
from geodata.service import ColumnMapping, FormatError, IngestError, report_csv
from geodata.service import suggest_mapping
from geodata.model.schema import INCIDENT_COLUMNS, REQUIRED_COLUMNS
from geodata.service import declared_licence
from geodata.service.incidents import user_message
from geodata.settings import Settings

#: Session key of the last upload stored from this page (its report, for the notice and Undo).
LAST_UPLOAD = "upload_last"
#: Session key set while the Undo confirmation is open.
CONFIRM_UNDO = "upload_confirm_undo"
#: Session key of the last undo's outcome message.
UNDONE = "upload_undone"


MAPPING_APPLIED = "upload_mapping_applied"


def mapping_widget_values(mapping: ColumnMapping, columns: list[str]) -> dict[str, str]:
    """The mapping editor's selectbox values for a saved ``mapping`` over a file with ``columns``.

    Returns:
        ``{"upload_map_<field>": file column or ""}`` for every canonical field; a column the file
        does not have is left unmapped ("").
    """
    return {f"upload_map_{col}": (mapping.columns.get(col, "") if mapping.columns.get(col, "") in columns else "")
            for col in INCIDENT_COLUMNS}


def _mapping_editor(columns: list[str]) -> ColumnMapping | None:
    """Selectboxes (one per canonical column) to map an unknown file; save/load as JSON."""
    st.info("This file is neither an ACLED export nor UCDP GED. Choose which of its columns holds each field.")
    loaded = st.file_uploader("Load a saved column mapping (JSON)", type=["json"], key="upload_mapping_json")
    base = suggest_mapping(columns)
    if loaded is not None:
        raw = loaded.getvalue()
        try:
            mapping = ColumnMapping.from_json(raw.decode("utf-8-sig"))
        except (FormatError, UnicodeDecodeError) as exc:
            st.error("The mapping file cannot be used.")
            st.text(str(exc))
        else:
            # Filled in once per loaded file: the selectboxes keep their own state after that, so
            # their defaults alone would never change (the mapping would seem to load and fill nothing).
            digest = hashlib.sha256(raw).hexdigest()
            if st.session_state.get(MAPPING_APPLIED) != digest:
                st.session_state.update(mapping_widget_values(mapping, columns))
                st.session_state[MAPPING_APPLIED] = digest
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


def _prepared(raw: bytes, name: str, mapping: ColumnMapping | None, settings: Settings):
    """Prepare once per (file, mapping): widget clicks rerun the script, a 200 MB parse must not."""
    key = (hash(raw), name, mapping.to_json() if mapping else "")
    cache = st.session_state.get("upload_prepared")
    if cache and cache[0] == key:
        return cache[1]
    bar = st.progress(0.0, text="reading")
    result = data.prepare_upload(raw, name, mapping, settings,
                                 progress=lambda f, what: bar.progress(min(f / 0.6, 1.0), text=what))
    bar.empty()
    st.session_state["upload_prepared"] = (key, result)
    return result


def _issues_table(report, file_name: str, key: str) -> None:
    """The row-by-row report (rejected rows and warnings) with its download; wide reasons wrap."""
    st.text("Rejected rows and warnings (line = line in your file):")
    # The reason comes right after the line, so a phone shows it without scrolling sideways first.
    first = [c for c in ("line", "reason") if c in report]
    st.dataframe(report, hide_index=True, width="stretch",
                 column_order=first + [c for c in report.columns if c not in first],
                 column_config={"line": st.column_config.NumberColumn("line", pinned=True, format="%d"),
                                "reason": st.column_config.TextColumn("reason", width="large")})
    errors = report[report["severity"] == "error"] if "severity" in report else report.iloc[0:0]
    if not errors.empty:
        # Table cells do not wrap: the rejected rows' reasons also as wrapping text (readable on a phone).
        with st.expander(f"Why {len(errors):,} row{'' if len(errors) == 1 else 's'} "
                         f"{'was' if len(errors) == 1 else 'were'} rejected, as text"):
            for r in errors.head(50).itertuples():
                st.markdown(md_escape(f"Line {r.line} ({r.column}): {r.reason}"))
            if len(errors) > 50:
                st.caption(f"… and {len(errors) - 50:,} more in the downloadable report.")
    st.download_button("Download the report (CSV)", report_csv(report), key=key,
                       file_name=f"report_{file_name.rsplit('.', 1)[0]}.csv", mime="text/csv")


def _last_upload(settings: Settings, shown: tuple[int, int] | None) -> None:
    """The upload just stored from this page: what happened to every row, its row-by-row report
    (kept on the page and downloadable), the counts now, and Undo (confirmed)."""
    done = st.session_state.get(LAST_UPLOAD)
    undone = st.session_state.pop(UNDONE, None)
    if undone:
        st.info(undone)
    if not done:
        return
    now = f" The map now shows {shown[0]:,} of {shown[1]:,} incidents." if shown else ""
    if done["discarded"]:
        st.info(md_escape(done["outcome"]) + now)
    else:
        st.success(md_escape(f"Upload {done['id']}: {done['outcome']}") + now)
    st.text(f"File: {done['file_name']}")
    if not done["issues"].empty:
        _issues_table(done["issues"], done["file_name"], key="upload_last_report")
    if done["discarded"]:
        return
    from dashboard import access

    if not access.user().may("undo"):  # analysts upload; undoing is an admin's (the store checks too)
        st.caption("Undoing an upload needs the admin role.")
        return
    if not st.session_state.get(CONFIRM_UNDO):
        st.button("Undo this upload…", key="upload_undo", on_click=st.session_state.__setitem__,
                  args=(CONFIRM_UNDO, True))
        return
    st.warning(f"Remove the {done['accepted']:,} incidents that upload {done['id']} added? Incidents that other "
               "uploads also hold stay.")
    yes, no = st.columns(2)
    if yes.button("Yes, undo the upload", type="primary", key="upload_undo_yes"):
        st.session_state.pop(CONFIRM_UNDO, None)
        try:
            outcome = data.undo_upload(settings, int(done["id"]))
        except ConflictmapError as exc:
            st.error("The upload could not be undone.")
            st.text(user_message(exc))
            return
        st.session_state.pop(LAST_UPLOAD, None)
        st.session_state[UNDONE] = md_escape(outcome.message()[:1].upper() + outcome.message()[1:] + ".")
        st.rerun()  # every count, the map and the charts follow the store's new version
    if no.button("Cancel", key="upload_undo_no"):
        st.session_state.pop(CONFIRM_UNDO, None)
        st.rerun()


def render(settings: Settings, shown: tuple[int, int] | None = None) -> None:
    """Draw the Upload page.

    Args:
        settings: gives the store URL and the upload size limit (``max_upload_mb``).
        shown: (incidents in the current selection, incidents in the data), for the notice after
            an upload; ``None`` leaves the counts out.
    """
    st.subheader("Upload incidents (CSV)")
    _last_upload(settings, shown)
    st.caption("ACLED exports (either column generation), UCDP GED (with or without header), or any CSV through "
               "a column mapping.")
    # A new key after each stored upload: the picker starts empty again. The picker states the one
    # limit itself ("Limit 200MB per file"); Streamlit's server limit is one MB higher (console.serve_command).
    picker = f"upload_csv_{st.session_state.get('upload_n', 0)}"
    up = st.file_uploader("CSV file", type=["csv", "txt", "tsv"], key=picker,
                          max_upload_size=settings.max_upload_mb)
    if up is None:
        return
    if up.size > settings.max_upload_mb * 1024 * 1024:
        st.error(f"This file is {up.size / 1024 / 1024:.0f} MB; the limit is {settings.max_upload_mb} MB "
                 "(setting CONFLICTMAP_MAX_UPLOAD_MB). Split the file, or use the command line ingest "
                 "(see the README).")
        return
    raw = up.getvalue()
    try:
        info = data.inspect_upload(raw)
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
        prepared = _prepared(raw, up.name, mapping, settings)
    except ConflictmapError as exc:  # IngestError, or a layer file the service cannot read
        st.error("The file cannot be used as it is.")
        st.text(str(exc))
        return
    valid = len(prepared.result.valid)
    repeated = prepared.repeated_in_file
    again = f" ({repeated} repeated inside the file, stored once)" if repeated else ""
    st.text(f"{prepared.rows_read} rows read: {valid} valid{again}, {prepared.rejected} rejected, "
            f"{_count(len(prepared.result.warnings), 'warning')}. Rows the store already holds are not stored again.")
    st.text("Preview of the first rows as they will be stored (each row once):")
    st.dataframe(prepared.preview(20), hide_index=True, width="stretch",
                 column_config={"event_date": st.column_config.DateColumn("event_date", format="YYYY-MM-DD")})
    report = prepared.report()
    if not report.empty:
        _issues_table(report, up.name, key="upload_report")
    licence = st.text_input("Licence of this file (optional)", key="upload_licence",
                            placeholder="e.g. CC BY 4.0 — left empty, ACLED-format files follow ACLED's terms",
                            help="Decides what exports may share of these rows (see README, Sharing and licences).")
    if st.button("Store the valid rows", type="primary", disabled=valid == 0, key="upload_store"):
        prepared.licence = declared_licence(licence)
        bar = st.progress(0.0, text="storing")
        try:
            outcome = data.store_upload(prepared, settings,
                                        progress=lambda f, what: bar.progress(max(0.0, min((f - 0.6) / 0.4, 1.0)),
                                                                              text=what))
        except ConflictmapError as exc:
            st.error("Nothing was stored.")
            st.text(user_message(exc))
            return
        done = outcome.report
        st.session_state.pop("upload_prepared", None)
        st.session_state.pop(CONFIRM_UNDO, None)
        # The report is kept with the outcome: it stays on the page (and downloadable) after the rerun.
        st.session_state[LAST_UPLOAD] = {"id": done.upload_id, "accepted": done.accepted,
                                         "outcome": done.outcome_text(), "discarded": done.discarded,
                                         "issues": done.issues, "file_name": done.file_name}
        # A fresh file picker, and a full rerun: the sidebar, map, charts and table read the new data.
        st.session_state["upload_n"] = st.session_state.get("upload_n", 0) + 1
        st.rerun()


def _count(n: int, noun: str) -> str:
    """``n noun`` with the noun in the plural unless ``n`` is 1 ("1 warning", "3 warnings")."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
