"""Escaping for everything that reaches HTML: popups, tooltips, legends, titles.

Folium writes popup HTML and GeoJson tooltip/popup properties through ``innerHTML`` without
escaping, so every value that comes from data passes through :func:`esc` first, and links are
emitted only for http(s) URLs via :func:`safe_link`.
"""

from __future__ import annotations

import html
import json
import math
import re

_JS_TEMPLATE_CHARS = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})
_HTTP = re.compile(r"^https?://[^\s<>\"'`]+$", re.IGNORECASE)


def esc(value: object) -> str:
    """HTML-escape any value (quotes included); ``None``/NaN become an empty string."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    try:
        if value != value:  # pandas NA/NaT compare unequal to themselves
            return ""
    except (TypeError, ValueError):
        pass
    # Backtick, "$" and backslash too: folium.Popup/Tooltip put HTML inside JS template literals
    # (`...`), where "${...}" would run and "\`" would end the literal.
    return html.escape(str(value), quote=True).translate(_JS_TEMPLATE_CHARS)


def safe_url(url: object) -> str | None:
    """Return ``url`` if it is a plain http(s) URL, else ``None`` (javascript:, data:, … refused)."""
    if url is None:
        return None
    text = str(url).strip()
    return text if _HTTP.match(text) else None


def safe_link(url: object, text: object | None = None) -> str:
    """An escaped ``<a>`` opening in a new tab for http(s) URLs; other values become escaped text."""
    ok = safe_url(url)
    label = esc(text if text is not None else url)
    if ok is None:
        return label
    return f'<a href="{esc(ok)}" target="_blank" rel="noopener noreferrer">{label}</a>'


def script_json(data: object) -> str:
    """JSON safe to embed inside a ``<script>`` element.

    ``<``, ``>``, ``&`` and the JS line separators are written as unicode escapes, so a value like
    ``</script><script>alert(1)</script>`` cannot end the script element; ``$`` and the backtick too,
    so no value can form ``${…}`` should a template ever put the JSON inside a JS template literal.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
            .replace("$", "\\u0024").replace("`", "\\u0060"))
