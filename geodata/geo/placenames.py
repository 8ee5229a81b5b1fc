"""One name per place per language, and every other spelling still searchable.

Place names reach conflictmap in many spellings: the incident rows say "Zvecan", the boundaries
"Zveçan", the press "Zvečan" or "Звечан". :func:`display_name` resolves any of them to the one
name shown in the display language (English by default; Albanian ``sq`` and Serbian Latin ``sr``),
and :func:`spellings` / :func:`matches` let a search find a place under any of its names.

The index is built from the sourced gazetteer (``places.csv``: English/Albanian/Serbian names),
the municipality alias table (:mod:`geodata.geo.municipalities`) with the per-language names below,
and the GeoNames towns' alternate names (``towns.csv``).
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from geodata.geo.municipalities import ALIASES, normalise_name

LANGUAGES = ("en", "sq", "sr")
DEFAULT_LANGUAGE = "en"
_LANG_POS = {lang: i for i, lang in enumerate(LANGUAGES)}

#: Municipalities whose English, Albanian and Serbian names differ (English as in English-language
#: press and Wikipedia; the others follow the canonical boundary name and the alias table).
MUNICIPALITY_NAMES: dict[str, tuple[str, str, str]] = {
    "North Mitrovica": ("North Mitrovica", "Mitrovicë e Veriut", "Severna Mitrovica"),
    "Mitrovica": ("Mitrovica", "Mitrovicë", "Kosovska Mitrovica"),
    "Zveçan": ("Zvečan", "Zveçan", "Zvečan"),
    "Zubin Potok": ("Zubin Potok", "Zubin Potok", "Zubin Potok"),
    "Leposaviq": ("Leposavić", "Leposaviq", "Leposavić"),
    "Vushtrri": ("Vushtrri", "Vushtrri", "Vučitrn"),
    "Skenderaj": ("Skenderaj", "Skënderaj", "Srbica"),
    "Pristina": ("Pristina", "Prishtinë", "Priština"),
    "Peja": ("Peja", "Pejë", "Peć"),
}


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, tuple[str, str, str]], dict[tuple[str, str, str], tuple[str, ...]]]:
    """normalised spelling -> (en, sq, sr); and (en, sq, sr) -> every known spelling."""
    from geodata.geo.places import load_places, load_towns

    entries: list[tuple[tuple[str, str, str], list[str]]] = []
    for _, r in load_places().iterrows():
        names = (r["name_en"], r["name_sq"], r["name_sr"])
        entries.append((names, list(names)))
    for canon, alts in ALIASES.items():
        names = MUNICIPALITY_NAMES.get(canon, (canon, canon, canon))
        entries.append((names, [canon, *alts, *names]))
    for _, r in load_towns().iterrows():
        town_alts = [a for a in str(r["alternate_names"]).split(";") if a]
        entries.append(((r["name"], r["name"], r["name"]), [r["name"], *town_alts]))
    lookup: dict[str, tuple[str, str, str]] = {}
    spell: dict[tuple[str, str, str], list[str]] = {}
    for names, all_names in entries:  # earlier sources win: the gazetteer, then municipalities, then GeoNames
        key_names = names
        for n in all_names:
            k = normalise_name(n)
            if k and k not in lookup:
                lookup[k] = key_names
        resolved = lookup.get(normalise_name(names[0]), key_names)
        spell.setdefault(resolved, [])
        spell[resolved].extend(n for n in all_names if n not in spell[resolved])
    return lookup, {k: tuple(v) for k, v in spell.items()}


def _blank(name: object) -> bool:
    """None, NaN or an empty string."""
    return name is None or (isinstance(name, float) and pd.isna(name)) or not str(name).strip()


def _names_for(name: object) -> tuple[str, str, str] | None:
    if _blank(name):
        return None
    text = str(name).strip()
    if not text:
        return None
    return _names_for_text(text)


@lru_cache(maxsize=16_384)
def _names_for_text(text: str) -> tuple[str, str, str] | None:
    # Cached: a map of 2,000 incidents asks for the same few hundred places thousands of times, and
    # the index behind it is fixed (bundled files).
    lookup, _ = _index()
    hit = lookup.get(normalise_name(text))
    if hit is None and any("\u0400" <= c < "\u0500" for c in text):
        hit = lookup.get(normalise_name(_cyr_to_latin(text)))
    return hit


def display_name(name: object, lang: str = DEFAULT_LANGUAGE) -> str:
    """The one name shown for a place in ``lang``.

    Args:
        name: any spelling (Zvecan, Zveçan, Zvečan, Звечан, "Municipality of Zveçan", …).
        lang: ``"en"`` (default), ``"sq"`` or ``"sr"``; anything else is treated as English.
    Returns:
        The display name; an unknown name is returned unchanged (stripped); blank/None gives "".
    """
    names = _names_for(name)
    if names is None:
        return "" if _blank(name) else str(name).strip()
    return names[_LANG_POS.get(lang, 0)]


def spellings(name: object) -> tuple[str, ...]:
    """Every known spelling of the place ``name`` refers to (the name itself if unknown)."""
    names = _names_for(name)
    if names is None:
        return (str(name).strip(),) if name is not None and str(name).strip() else ()
    return _index()[1].get(names, names)


def matches(query: str, name: object) -> bool:
    """True if ``query`` (any spelling, case/diacritics ignored) is part of any spelling of ``name``."""
    q = normalise_name(query)
    if not q:
        return True
    return any(q in normalise_name(s) for s in spellings(name))


_CYR = dict(zip("абвгдђежзијклмнопрстћуфхцчш", "abvgdđežzijklmnoprstćufhcčš"))
_CYR.update({"љ": "lj", "њ": "nj", "џ": "dž"})


def _cyr_to_latin(text: str) -> str:
    """Serbian Cyrillic to Serbian Latin (one-to-one official mapping) for lookups."""
    return "".join(_CYR.get(c.lower(), c) for c in text)


def where(location: object, municipality: object, lang: str = DEFAULT_LANGUAGE) -> str:
    """"Location, Municipality" as one text, each place in its one display name (details tables, popups).

    Args:
        location: the incident's location, any spelling (blank allowed).
        municipality: its municipality, any spelling (blank allowed).
        lang: display language (see :func:`display_name`).
    Returns:
        The names joined by ", ", a repeat left out ("Zvečan, Zvečan" -> "Zvečan"); "" when both are blank.
    """
    names = [display_name(v, lang) for v in (location, municipality)]
    return ", ".join(dict.fromkeys(n for n in names if n))


def map_labels(lang: str = "en") -> pd.DataFrame:
    """Place labels for the map, most important first.

    Args:
        lang: display language, ``"en"``, ``"sq"`` or ``"sr"`` (see :mod:`geodata.geo.placenames`).
    Returns:
        DataFrame with ``name`` (display name), ``lat``, ``lon``, ``min_zoom`` (int), ``kind``
        (town/village/crossing/landmark/lake/country) and ``priority`` (lower draws first), sorted by priority.
        A new frame on each call (the caller may change it).
    """
    return _map_labels(lang).copy()


@lru_cache(maxsize=8)
def _map_labels(lang: str) -> pd.DataFrame:
    """:func:`map_labels`, computed once per language and process: the labels come from bundled files
    only, and every map (each dashboard rerun that builds one, each export) needs them."""
    from geodata.geo.places import SAME_PLACE_KM, load_places, load_towns, town_min_zoom

    places = load_places()
    col = {"sq": "name_sq", "sr": "name_sr"}.get(lang, "name_en")
    rows = [{"name": r[col], "lat": r["latitude"], "lon": r["longitude"], "kind": r["kind"],
             "min_zoom": {1: 8, 2: 10, 3: 11}.get(int(r["rank"]), 11), "priority": int(r["rank"]) * 10}
            for _, r in places.iterrows()]
    towns = load_towns()
    if not towns.empty:
        # Skip GeoNames towns that the gazetteer already labels (e.g. Zvečan, Leposaviq).
        pts = places.to_crs("EPSG:32634").geometry
        tpts = towns.to_crs("EPSG:32634").geometry
        dist = tpts.apply(lambda p: pts.distance(p).min() / 1000 if len(pts) else 1e9)
        for (_, r), d in zip(towns.iterrows(), dist):
            if d < SAME_PLACE_KM:
                continue
            mz = town_min_zoom(int(r["population"]), r["country"])
            rows.append({"name": display_name(r["name"], lang), "lat": r["latitude"], "lon": r["longitude"],
                         "kind": "town", "min_zoom": mz, "priority": mz * 10 + 5 - min(4, int(r["population"]) // 50_000)})
    out = pd.DataFrame(rows, columns=["name", "lat", "lon", "kind", "min_zoom", "priority"])
    return out.sort_values(["priority", "name"], kind="stable").reset_index(drop=True)
