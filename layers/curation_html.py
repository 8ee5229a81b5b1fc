"""HTML snippets for what analysts add to an incident: its sources, its verification status, disputed figures.

Every value is escaped (:func:`layers.html.esc`) and links are emitted for http(s) URLs only
(:func:`layers.html.safe_link`); used by the incident popups and the sequence control.
"""

from __future__ import annotations

from geodata.curation.verification import STATUS_TEXT
from layers.html import esc, safe_link

#: Colour of each verification status badge (legend and popups).
STATUS_COLORS: dict[str, str] = {
    "reported": "#6c757d", "corroborated": "#1f77b4", "verified": "#2ca02c", "disputed": "#d62728",
    "retracted": "#000000",
}


def sources_html(sources: list[dict] | None) -> str:
    """A list of every source: outlet (date, language) linked to the report, plus its archived copy."""
    items = []
    for s in sources or []:
        meta = ", ".join(str(v) for v in (s.get("published"), s.get("language")) if v)
        text = str(s.get("outlet") or "report") + (f" ({meta})" if meta else "")
        item = safe_link(s.get("url"), text)  # escapes the text; a link only for an http(s) URL
        if s.get("archive_url"):
            item += " · " + safe_link(s.get("archive_url"), "archived copy")
        items.append(f"<li>{item}</li>")
    if not items:
        return ""
    return '<ul class="cm-sources" style="margin:2px 0 0 16px;padding:0">' + "".join(items) + "</ul>"


def status_html(status: object, reason: object = "") -> str:
    """The verification status as a coloured badge with its plain meaning and reason."""
    key = str(status or "reported")
    color = STATUS_COLORS.get(key, "#6c757d")
    badge = (f'<span class="cm-status cm-status-{esc(key)}" style="background:{color};color:#fff;'
             f'border-radius:3px;padding:0 4px">{esc(key)}</span>')
    text = esc(STATUS_TEXT.get(key, key))
    why = f"<br><small>{esc(reason)}</small>" if reason and key != "reported" else ""
    return f"<b>Status:</b> {badge} <small>{text}</small>{why}"


def fatalities_html(value: object, status: object) -> str:
    """The fatality figure, marked "(disputed)" when the incident's status is disputed."""
    figure = esc(value)
    if str(status or "") == "disputed":
        return f'{figure} <span class="cm-disputed" style="color:#d62728">(disputed)</span>'
    return figure


def status_outline(status: object) -> tuple[str, float]:
    """Marker outline (colour, weight) for a verification status: plain dark for reported, coloured and thicker otherwise."""
    key = str(status or "reported")
    if key == "reported" or key not in STATUS_COLORS:
        return "#222", 1.0
    return STATUS_COLORS[key], 2.5


def status_legend_items() -> list[tuple[str, str]]:
    """Legend rows: a ring per verification status, as the markers' outlines show it."""
    short = {"corroborated": "Corroborated (2+ independent sources)", "verified": "Verified by an analyst"}
    items = []
    for key in STATUS_TEXT:
        text = short.get(key, key.capitalize())
        color, weight = status_outline(key)
        ring = (f'<span style="display:inline-block;width:9px;height:9px;border-radius:50%;background:#eee;'
                f'border:{weight:g}px solid {color}"></span>')
        items.append((ring, text))
    return items
