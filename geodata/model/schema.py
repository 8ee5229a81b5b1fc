"""The incident data model: ACLED's 31-column export plus the columns conflictmap needs.

The canonical columns follow ACLED's export (post-March-2023 generation) so that an ACLED file
maps onto the model one-to-one; ``source_url`` is added because every incident shown by
conflictmap must link to a public report. Event types and sub-event types are ACLED's six types
and 25 sub-types (ACLED Codebook 2023); anything else is rejected by validation.
"""

from __future__ import annotations

ACLED_COLUMNS: tuple[str, ...] = (
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
    "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2",
    "interaction", "civilian_targeting", "iso", "region", "country", "admin1", "admin2", "admin3",
    "location", "latitude", "longitude", "geo_precision", "source", "source_scale", "notes",
    "fatalities", "tags", "timestamp",
)
EXTRA_COLUMNS: tuple[str, ...] = ("source_url",)
INCIDENT_COLUMNS: tuple[str, ...] = ACLED_COLUMNS + EXTRA_COLUMNS

#: Columns a row cannot be stored without.
REQUIRED_COLUMNS: tuple[str, ...] = (
    "event_date", "event_type", "sub_event_type", "actor1", "latitude", "longitude",
)

#: ACLED's six event types and their 25 sub-event types.
EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "Battles": ("Armed clash", "Government regains territory", "Non-state actor overtakes territory"),
    "Explosions/Remote violence": (
        "Chemical weapon", "Air/drone strike", "Suicide bomb", "Shelling/artillery/missile attack",
        "Remote explosive/landmine/IED", "Grenade",
    ),
    "Violence against civilians": ("Sexual violence", "Attack", "Abduction/forced disappearance"),
    "Protests": ("Peaceful protest", "Protest with intervention", "Excessive force against protesters"),
    "Riots": ("Violent demonstration", "Mob violence"),
    "Strategic developments": (
        "Agreement", "Arrests", "Change to group/activity", "Disrupted weapons use",
        "Headquarters or base established", "Looting/property destruction",
        "Non-violent transfer of territory", "Other",
    ),
}
SUB_EVENT_TO_TYPE: dict[str, str] = {s: t for t, subs in EVENT_TYPES.items() for s in subs}

#: ACLED actor-type codes; older exports write the number, current ones the text.
INTER_CODES: dict[int, str] = {
    0: "", 1: "State forces", 2: "Rebel group", 3: "Political militia", 4: "Identity militia",
    5: "Rioters", 6: "Protesters", 7: "Civilians", 8: "External/Other forces",
}
INTER_LABELS: frozenset[str] = frozenset(v for v in INTER_CODES.values() if v)

DISORDER_TYPES: frozenset[str] = frozenset(
    {"Political violence", "Demonstrations", "Strategic developments", "Political violence; Demonstrations"}
)

#: Integer columns of the model (nullable).
INT_COLUMNS: tuple[str, ...] = ("year", "time_precision", "geo_precision", "fatalities", "timestamp")
FLOAT_COLUMNS: tuple[str, ...] = ("latitude", "longitude")

#: Area of interest: Kosovo's extent with a margin (lon/lat); rows outside get a warning, not a rejection.
AOI_BOUNDS: tuple[float, float, float, float] = (19.9, 41.8, 21.9, 43.35)

#: Columns holding several values separated by ";" (ACLED's convention).
MULTI_VALUE_COLUMNS: tuple[str, ...] = ("assoc_actor_1", "assoc_actor_2", "source", "tags")


def split_multi(value: object) -> list[str]:
    """Split an ACLED multi-value cell (``"a; b"``) into its trimmed, non-empty parts."""
    if value is None or (isinstance(value, float) and value != value):
        return []
    return [p.strip() for p in str(value).split(";") if p.strip()]
