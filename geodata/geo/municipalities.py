"""Municipality names: one alias table for the Albanian, Serbian and English spellings.

Canonical names are those of the official boundaries (geoBoundaries ``shapeName`` without the
"Municipality of " prefix), e.g. ``Zveçan``, ``Leposaviq``, ``North Mitrovica``. Data from ACLED,
UCDP, the press or analysts spells them many ways (Zvečan / Zveçan / Zvecan / Zveçani; North
Mitrovica / Mitrovica e Veriut / Severna Mitrovica / Kosovska Mitrovica North); every variant is
resolved here by :func:`canonical_municipality`, compared without case or diacritics.
"""

from __future__ import annotations

import re
import unicodedata

#: canonical name -> other spellings (Albanian definite/indefinite, Serbian Latin, English, ASCII).
ALIASES: dict[str, tuple[str, ...]] = {
    "North Mitrovica": ("Mitrovica North", "North Mitrovicë", "Mitrovica e Veriut", "Mitrovicë e Veriut",
                        "Severna Mitrovica", "Severna Kosovska Mitrovica", "Kosovska Mitrovica North",
                        "Mitrovica Veriore", "Northern Mitrovica"),
    "Mitrovica": ("South Mitrovica", "Mitrovica South", "Mitrovicë", "Mitrovica e Jugut", "Južna Mitrovica",
                  "Kosovska Mitrovica", "Mitrovicë e Jugut"),
    "Zveçan": ("Zvečan", "Zvecan", "Zveçani", "Zvečani", "Zvechan"),
    "Zubin Potok": ("Zubinpotok", "Zubin Potoku"),
    "Leposaviq": ("Leposavić", "Leposavic", "Leposaviqi", "Leposavich", "Albanik"),
    "Vushtrri": ("Vučitrn", "Vucitrn", "Vushtrria"),
    "Skenderaj": ("Srbica", "Skënderaj", "Skenderaji", "Skënderaji"),
    "Pristina": ("Prishtina", "Prishtinë", "Priština", "Prishtine", "Prishtinë/Priština"),
    "Peja": ("Peć", "Pec", "Pejë", "Pejë/Peć", "Peje"),
    "Deçan": ("Dečani", "Decani", "Deçani", "Decan", "Deçan/Dečani"),
    "Prizren": ("Prizreni",),
    "Gracanica": ("Gračanica", "Graçanicë", "Gracanice", "Graçanica"),
    "Gjakova": ("Đakovica", "Djakovica", "Gjakovë", "Dakovica"),
    "Gjilan": ("Gnjilane", "Gjilani"),
    "Ferizaj": ("Uroševac", "Urosevac", "Ferizaji"),
    "Istog": ("Istok", "Istogu"),
    "Klina": ("Klinë",),
    "Rahovec": ("Orahovac", "Rahoveci"),
    "Suhareka": ("Suva Reka", "Suharekë", "Suvareka"),
    "Dragash": ("Dragaš", "Dragas", "Dragashi"),
    "Shtërpcë": ("Štrpce", "Strpce", "Shterpce", "Shtërpca"),
    "Kaçanik": ("Kačanik", "Kacanik", "Kaçaniku"),
    "Han i Elezit": ("Elez Han", "Đeneral Janković", "General Jankovic", "Hani i Elezit"),
    "Viti": ("Vitina", "Vitia"),
    "Kllokot": ("Klokot", "Kllokoti"),
    "Kamenica": ("Kamenicë", "Dardana", "Kamenicë/Kamenica"),
    "Novobërdë": ("Novo Brdo", "Novoberde", "Novobërda"),
    "Ranillug": ("Ranilug", "Ranillugu"),
    "Partesh": ("Parteš", "Partes", "Parteshi"),
    "Fushë Kosovë": ("Kosovo Polje", "Fushe Kosove", "Fushë Kosova"),
    "Obiliq": ("Obilić", "Obilic", "Obiliqi"),
    "Lipjan": ("Lipljan", "Lipjani"),
    "Shtime": ("Štimlje", "Stimlje", "Shtimja"),
    "Drenas": ("Glogovac", "Gllogoc", "Drenasi"),
    "Malisheva": ("Mališevo", "Malisevo", "Malishevë"),
    "Junik": ("Juniku",),
    "Mamusha": ("Mamuša", "Mamusa", "Mamushë"),
    "Podujeva": ("Podujevo", "Podujevë"),
}

#: The four Serb-majority municipalities of northern Kosovo that conflictmap focuses on.
NORTHERN_MUNICIPALITIES: tuple[str, ...] = ("North Mitrovica", "Zveçan", "Zubin Potok", "Leposaviq")


def normalise_name(name: str) -> str:
    """Fold a place name for comparison: no diacritics, case, punctuation or "Municipality of".

    ``ç``/``č``/``ć`` all become ``c``, ``ë`` becomes ``e``, ``đ`` becomes ``d``.
    """
    text = str(name).replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = re.sub(r"^(municipality of|komuna e|opstina|opština)\s+", "", text.strip())
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


_LOOKUP: dict[str, str] = {}
for _canon, _alts in ALIASES.items():
    for _n in (_canon, *_alts):
        _LOOKUP.setdefault(normalise_name(_n), _canon)


def canonical_municipality(name: object) -> str | None:
    """Resolve any spelling of a Kosovo municipality to its canonical (boundary-file) name.

    Args:
        name: a municipality name in any language/spelling, with or without "Municipality of".
    Returns:
        The canonical name, or ``None`` if the name is blank or unknown.
    """
    if name is None or (isinstance(name, float) and name != name):
        return None
    key = normalise_name(str(name))
    return _LOOKUP.get(key) if key else None
