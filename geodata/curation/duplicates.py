"""Possible duplicates across datasets: suggested with a score and reasons, merged only when an analyst confirms.

The same event often arrives twice — from ACLED and from UCDP, or from the bundled file and an
upload — with slightly different dates, coordinates (a village's or the town's), actor names and
notes. :func:`suggest_duplicates` proposes pairs that share the same or an adjacent date, lie
within a few kilometres (measured in EPSG:32634), name overlapping actors or have similar notes.
Nothing is merged by this module on its own: :class:`DecisionLog` records an analyst's *confirm*
(the two become one incident, sources combined, both ids kept as aliases) or *dismiss*, and an
*undo* of either — all appended, never edited.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata._errors import InputError
from geodata.model.filters import ACTOR_COLUMNS
from geodata.model.schema import split_multi
from geodata.settings import METRIC_CRS, WGS84
from geodata.curation.verification import MAX_NOTE_CHARS, MAX_WHO_CHARS, clean_text, utc_now

#: Default "a few kilometres" and "same or adjacent date".
MAX_KM = 5.0
MAX_DAYS = 1
#: Suggestions below this score are not shown.
MIN_SCORE = 0.45
#: Notes this similar (token overlap, 0…1) count as "similar notes".
NOTES_SIMILAR = 0.35
#: Largest selection compared pair by pair (pairs are only formed within a day or two, but a
#: million rows would still take minutes in Python).
MAX_ROWS = 50_000
SUGGESTION_COLUMNS: tuple[str, ...] = ("a", "b", "score", "reasons", "days_apart", "km_apart")
ACTIONS: tuple[str, ...] = ("confirm", "dismiss", "undo")
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


class DuplicateError(InputError):
    """A decision that cannot be made (unknown ids, already decided, nothing to undo)."""


def dataset_of(incidents: pd.DataFrame) -> pd.Series:
    """Which dataset each row comes from: its ``origin`` ("bundled", "upload:3") when present, else the id's prefix."""
    if "origin" in incidents:
        return incidents["origin"].fillna("").astype(str)
    return incidents["event_id_cnty"].fillna("").astype(str).str.replace(r"[\d\W_]+$", "", regex=True)


def _actors(row: pd.Series) -> dict[str, str]:
    """Case-folded actor name -> the name as written, over actor1/2 and the associated actors."""
    names: dict[str, str] = {}
    for col in ACTOR_COLUMNS:
        if col in row and row[col] is not None and row[col] == row[col]:
            for n in split_multi(row[col]):
                if n:
                    names.setdefault(n.casefold(), n)
    return names


def _words(text: object) -> set[str]:
    return {w.casefold() for w in _WORD.findall(str(text or ""))}


def notes_similarity(a: object, b: object) -> float:
    """Overlap of the words (3+ letters, case-folded) of two notes: |A∩B| / min(|A|, |B|), 0…1."""
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / min(len(wa), len(wb))


def sequence_pairs(sequences: Iterable[Iterable[str]]) -> set[frozenset[str]]:
    """Every pair of distinct incidents that are steps of one sequence.

    Two steps of one sequence (the Banjska ambush and the monastery siege that followed) are
    different events an analyst already linked, never duplicates of each other.

    Args:
        sequences: for each sequence, the incident ids of its steps.
    Returns:
        Pairs as frozensets of two ids.
    """
    pairs: set[frozenset[str]] = set()
    for ids in sequences:
        unique = sorted(set(map(str, ids)))
        pairs.update(frozenset((a, b)) for n, a in enumerate(unique) for b in unique[n + 1:])
    return pairs


def suggest_duplicates(incidents: gpd.GeoDataFrame, *, max_km: float = MAX_KM, max_days: int = MAX_DAYS,
                       min_score: float = MIN_SCORE, across_datasets: bool = True,
                       exclude: set[frozenset[str]] | None = None,
                       sequences: Iterable[Iterable[str]] = ()) -> pd.DataFrame:
    """Suggest pairs of incidents that may be the same event.

    A pair is a candidate when its dates are at most ``max_days`` apart; it is suggested when it
    also lies within ``max_km`` km, names an overlapping actor or has similar notes, and its score
    reaches ``min_score``. Score (0…1) = date (0.25 same day, 0.1 adjacent) + distance
    (0.35 × (1 − km / max_km)) + actors (0.2 × Jaccard overlap) + notes (0.2 × similarity).

    Args:
        incidents: point layer with ``event_id_cnty``, ``event_date``, actors, ``notes``.
        max_km, max_days, min_score: thresholds (see above).
        across_datasets: only pairs from different datasets (:func:`dataset_of`).
        exclude: pairs (frozensets of two ids) already decided.
        sequences: incident ids of each sequence's steps; two steps of one sequence are never
            suggested (:func:`sequence_pairs`).
    Returns:
        DataFrame with :data:`SUGGESTION_COLUMNS`, best first; ``reasons`` is a "; "-joined text.
    """
    cols = list(SUGGESTION_COLUMNS)
    if len(incidents) > MAX_ROWS:
        raise DuplicateError(f"{len(incidents):,} incidents are too many to compare pairwise; "
                             f"narrow the selection to at most {MAX_ROWS:,} (e.g. a date range)")
    if len(incidents) < 2:
        return pd.DataFrame(columns=cols)
    df = incidents.reset_index(drop=True)
    geom = df.geometry if isinstance(df, gpd.GeoDataFrame) else gpd.GeoSeries(
        gpd.points_from_xy(df["longitude"].astype(float), df["latitude"].astype(float)), crs=WGS84)
    pts = geom.to_crs(METRIC_CRS)
    day = (pd.to_datetime(df["event_date"]).dt.normalize() - pd.Timestamp("1970-01-01")).dt.days.to_numpy()
    x, y = pts.x.to_numpy(), pts.y.to_numpy()
    ds = dataset_of(df).to_numpy()
    order = np.argsort(day, kind="stable")
    exclude = (exclude or set()) | sequence_pairs(sequences)
    out = []
    # Pairs within max_days of each other, found by walking the date-sorted rows (no n² table).
    for pos, i in enumerate(order):
        for j in order[pos + 1:]:
            if day[j] - day[i] > max_days:
                break
            if across_datasets and ds[i] == ds[j]:
                continue
            ida, idb = str(df.at[i, "event_id_cnty"]), str(df.at[j, "event_id_cnty"])
            if ida == idb or frozenset((ida, idb)) in exclude:
                continue
            km = float(np.hypot(x[i] - x[j], y[i] - y[j]) / 1000.0)
            gap = int(abs(day[j] - day[i]))
            a_act, b_act = _actors(df.loc[i]), _actors(df.loc[j])
            shared = a_act.keys() & b_act.keys()
            union = a_act.keys() | b_act.keys()
            jacc = len(shared) / len(union) if union else 0.0
            sim = notes_similarity(df.at[i, "notes"] if "notes" in df else "", df.at[j, "notes"] if "notes" in df else "")
            near = km <= max_km
            if not (near or shared or sim >= NOTES_SIMILAR):
                continue
            score = (0.25 if gap == 0 else 0.1) + (0.35 * (1 - km / max_km) if near else 0.0) + 0.2 * jacc + 0.2 * sim
            if score < min_score:
                continue
            reasons = ["same date" if gap == 0 else f"{gap} day apart" if gap == 1 else f"{gap} days apart"]
            reasons.append(f"{km:.1f} km apart" + ("" if near else f" (over {max_km:g} km)"))
            if shared:
                reasons.append("shared actors: " + ", ".join(sorted(a_act[k] for k in shared)))
            if sim >= NOTES_SIMILAR:
                reasons.append(f"similar notes ({sim:.0%} of words shared)")
            a, b = sorted((ida, idb))
            out.append((a, b, round(score, 3), "; ".join(reasons), gap, round(km, 2)))
    res = pd.DataFrame(out, columns=cols)
    return res.sort_values(["score", "a", "b"], ascending=[False, True, True], ignore_index=True)


@dataclass(frozen=True)
class Decision:
    """One analyst decision on a pair (append-only).

    Attributes:
        decision_id: position in the log (1, 2, …; the store's row id).
        action: ``confirm`` (merge: ``keep`` stays, ``alias`` becomes its alias), ``dismiss`` or ``undo``.
        keep, alias: the pair (for a dismiss, simply the two ids).
        who, at, why: the analyst, when (UTC) and the reason.
        undoes: for ``undo``, the decision it reverts.
    """

    decision_id: int
    action: str
    keep: str
    alias: str
    who: str
    at: dt.datetime
    why: str
    undoes: int | None = None


@dataclass
class DecisionLog:
    """Append-only record of confirm/dismiss/undo decisions and what they imply."""

    decisions: list[Decision] = field(default_factory=list)

    def _undone(self) -> set[int]:
        """Ids of decisions reverted by an undo that is itself still in force."""
        undone: set[int] = set()
        for d in reversed(self.decisions):  # a later undo of an undo restores the earlier decision
            if d.action == "undo" and d.decision_id not in undone and d.undoes is not None:
                undone.add(d.undoes)
        return undone

    def active(self) -> list[Decision]:
        """Confirm and dismiss decisions currently in force, oldest first."""
        undone = self._undone()
        return [d for d in self.decisions if d.action != "undo" and d.decision_id not in undone]

    def decided_pairs(self) -> set[frozenset[str]]:
        """Pairs with a decision in force (left out of new suggestions)."""
        return {frozenset((d.keep, d.alias)) for d in self.active()}

    def aliases(self) -> dict[str, str]:
        """Merged-away id -> the id it was merged into (chains followed to the end)."""
        direct = {d.alias: d.keep for d in self.active() if d.action == "confirm"}
        out = {}
        for alias, keep in direct.items():
            target, hops = keep, 0
            while target in direct and hops < len(direct):
                target, hops = direct[target], hops + 1
            out[alias] = target
        return out

    def _append(self, d: Decision) -> Decision:
        d = replace(d, decision_id=len(self.decisions) + 1)
        self.decisions.append(d)
        return d

    def decide(self, action: str, keep: str, alias: str, who: str, why: str, *,
               known_ids: set[str] | None = None, at: dt.datetime | None = None) -> Decision:
        """Record a confirm or dismiss of the pair (``keep``, ``alias``).

        Raises:
            DuplicateError: for an unknown action or id, a pair of one id, or a pair already decided.
        """
        if action not in ("confirm", "dismiss"):
            raise DuplicateError(f"unknown decision {action!r}: confirm or dismiss")
        if keep == alias:
            raise DuplicateError("a pair needs two different incident ids")
        unknown = [i for i in (keep, alias) if known_ids is not None and i not in known_ids]
        if unknown:
            raise DuplicateError(f"unknown incident id(s): {', '.join(unknown)}")
        if frozenset((keep, alias)) in self.decided_pairs():
            raise DuplicateError(f"{keep} and {alias} already have a decision; undo it first")
        aliases = self.aliases()
        if action == "confirm" and alias in aliases:
            raise DuplicateError(f"{alias} is already merged into {aliases[alias]}")
        if action == "confirm" and aliases.get(keep, keep) == alias:
            # keep is (through a chain of merges) merged into alias: this merge would close a cycle,
            # and every incident on it would vanish from maps and exports (issue 18, row 7).
            raise DuplicateError(f"{keep} is already merged into {alias}: merging {alias} into {keep} would "
                                 "make a cycle; undo the earlier merge first")
        return self._append(Decision(0, action, keep, alias, clean_text(who, "who", MAX_WHO_CHARS),
                                     at or utc_now(), clean_text(why or action, "the reason", MAX_NOTE_CHARS)))

    def undo(self, decision_id: int, who: str, why: str = "undo", at: dt.datetime | None = None) -> Decision:
        """Revert decision ``decision_id`` (a confirm, a dismiss or an undo) by appending an undo.

        Raises:
            DuplicateError: if there is no such decision or it is no longer in force.
        """
        target = next((d for d in self.decisions if d.decision_id == int(decision_id)), None)
        if target is None:
            raise DuplicateError(f"no decision {decision_id}")
        in_force = {d.decision_id for d in self.active()} | {
            d.decision_id for d in self.decisions if d.action == "undo" and d.undoes in self._undone()}
        if target.decision_id not in in_force:
            raise DuplicateError(f"decision {decision_id} is not in force (already undone)")
        return self._append(Decision(0, "undo", target.keep, target.alias, clean_text(who, "who", MAX_WHO_CHARS),
                                     at or utc_now(), clean_text(why or "undo", "the reason", MAX_NOTE_CHARS),
                                     undoes=target.decision_id))


def apply_merges(incidents: pd.DataFrame, sources: pd.DataFrame,
                 aliases: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What confirmed merges mean for display and export.

    Args:
        incidents: the selection.
        sources: sources table (``event_id_cnty``, ``url``, …).
        aliases: merged-away id -> kept id (:meth:`DecisionLog.aliases`).
    Returns:
        ``(incidents, sources)``: merged-away rows dropped, an ``aliases`` column ("; "-joined ids
        merged into each row, "" otherwise); sources of merged-away ids re-pointed to the kept id,
        one row per URL.
    """
    out = incidents.copy()
    ids = out["event_id_cnty"].astype(str)
    merged: dict[str, list[str]] = {}
    for alias, keep in aliases.items():
        merged.setdefault(keep, []).append(alias)
    out["aliases"] = ids.map(lambda i: "; ".join(sorted(merged.get(i, [])))).astype(object)
    out = out[~ids.isin(aliases.keys()).to_numpy()]
    src = sources.copy()
    if len(src) and aliases:
        src["event_id_cnty"] = src["event_id_cnty"].astype(str).map(lambda i: aliases.get(i, i))
        src = src.drop_duplicates(["event_id_cnty", "url"], ignore_index=True)
    return out, src
