"""Offline map assets: Leaflet and plugin JS/CSS served or inlined, never fetched from a CDN.

Folium references Leaflet and its plugins on public CDNs; on a machine without internet the map
is blank ("L is not defined"). The file contents come from the maintained PyPI package
``folium-offline`` (module ``offlinefolium``, MIT), installed with the other requirements, which
embeds the exact files behind folium's CDN URLs. Two ways to use them:

* :func:`inline_assets` rewrites a saved map so every script and style is inside the file
  (standalone HTML export);
* :func:`localize_links` points every element at a local URL (the dashboard serves
  :func:`write_static_assets`'s output through Streamlit static serving).
"""

from __future__ import annotations

from geodata._errors import ConflictmapError

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import branca
import folium
from folium.elements import JSCSSMixin

LEAFLET_JS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
LEAFLET_CSS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"
JQUERY_JS = "https://code.jquery.com/jquery-3.7.1.min.js"


class OfflineAssetError(ConflictmapError, RuntimeError):
    """A map references an external script or style that no local copy exists for."""


@lru_cache(maxsize=1)
def asset_contents() -> dict[str, str]:
    """CDN URL -> file contents, from the ``folium-offline`` package."""
    from offlinefolium.elements import _res  # the package's table of embedded CDN files

    return dict(_res)


def asset_text(url: str) -> str:
    """The contents of one CDN asset.

    Raises:
        OfflineAssetError: if no local copy of ``url`` exists.
    """
    try:
        return asset_contents()[url]
    except KeyError:
        raise OfflineAssetError(f"no offline copy of {url}") from None


def local_name(url: str) -> str:
    """A stable file name for a CDN URL: its basename prefixed with a short hash of the URL."""
    base = re.sub(r"[^A-Za-z0-9._-]", "_", url.rsplit("/", 1)[-1]) or "asset"
    if not base.endswith((".js", ".css")):
        base += ".css" if "css" in url.rsplit("/", 1)[-1].lower() else ".js"
    return f"{hashlib.sha256(url.encode()).hexdigest()[:10]}-{base}"


def prune_map_assets(m: folium.Map) -> folium.Map:
    """Keep only Leaflet itself among the map's default assets.

    conflictmap draws no Bootstrap/awesome-markers/Font Awesome icons, so those ~1.3 MB of CSS
    and JS (and the web fonts they would fetch) are dropped. jQuery stays: ``folium.Popup``
    builds its content with ``$(`...`)``, and without it the map script stops at the first
    site or route popup ("$ is not defined") and no incident is drawn.
    """
    m.default_js = [("leaflet", LEAFLET_JS), ("jquery", JQUERY_JS)]
    m.default_css = [("leaflet_css", LEAFLET_CSS)]
    return m


def iter_asset_elements(element: branca.element.Element) -> Iterator[JSCSSMixin]:
    """Every element in a map tree that brings JS/CSS links."""
    if isinstance(element, JSCSSMixin):
        yield element
    for child in getattr(element, "_children", {}).values():
        yield from iter_asset_elements(child)


def localize_links(m: folium.Map, base_url: str) -> list[str]:
    """Point every element's JS/CSS at ``base_url + local_name(url)``.

    Args:
        m: the map (modified in place).
        base_url: where :func:`write_static_assets` output is served, e.g. ``/app/static/vendor/``.
    Returns:
        The local URLs in use.
    Raises:
        OfflineAssetError: if an element uses a URL with no local copy.
    """
    used: list[str] = []
    contents = asset_contents()
    for elem in iter_asset_elements(m):
        for attr in ("default_js", "default_css"):
            rewritten = []
            for name, url in getattr(elem, attr):
                if url.startswith(("http://", "https://")):
                    if url not in contents:
                        raise OfflineAssetError(f"no offline copy of {url}")
                    url = base_url + local_name(url)
                rewritten.append((name, url))
                used.append(url)
            setattr(elem, attr, rewritten)  # instance attribute: class defaults stay untouched
    return list(dict.fromkeys(used))


def write_static_assets(dest: Path) -> Path:
    """Write every known asset to ``dest`` under :func:`local_name` (idempotent).

    Returns:
        ``dest``.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for url, text in asset_contents().items():
        target = dest / local_name(url)
        data = text.encode("utf-8")
        if not target.exists() or target.stat().st_size != len(data):
            tmp = target.with_suffix(target.suffix + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(target)
    return dest


_SCRIPT_SRC = re.compile(r'<script\b[^>]*\bsrc=["\']([^"\']+)["\'][^>]*>\s*</script>', re.IGNORECASE)
_CSS_LINK = re.compile(r'<link\b[^>]*\bhref=["\']([^"\']+\.css[^"\']*)["\'][^>]*/?>', re.IGNORECASE)


def inline_assets(html: str) -> str:
    """Replace every external ``<script src>`` / stylesheet ``<link>`` with inline contents.

    Raises:
        OfflineAssetError: if an external reference has no local copy (the file would not be
            self-contained).
    """
    def script(match: re.Match[str]) -> str:
        body = asset_text(match.group(1)).replace("</script", "<\\/script")
        return f"<script>{body}</script>"

    def style(match: re.Match[str]) -> str:
        body = asset_text(match.group(1)).replace("</style", "<\\/style")
        return f"<style>{body}</style>"

    return _CSS_LINK.sub(style, _SCRIPT_SRC.sub(script, html))


def external_references(html: str) -> list[str]:
    """External script/style URLs still referenced by ``html`` (empty for a standalone file)."""
    return [u for u in _SCRIPT_SRC.findall(html) + _CSS_LINK.findall(html) if "://" in u or u.startswith("//")]
