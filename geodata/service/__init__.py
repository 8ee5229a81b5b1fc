"""The one door: every read and change of incident data goes through a service built with the actor who asks.

* :class:`geodata.service.incidents.IncidentService` — incidents: select, count, facets, uploads, undo, sync,
  users and the audit log; it hands out the curation and watch parts below.
* :class:`geodata.service.curation.CurationService` — verification, sources, sequences, duplicates.
* :mod:`geodata.service.watch` — watch areas and their digests.

Pages, command lines, exports and benchmarks import from here; nothing else opens the store
(:mod:`geodata.store`). The names are imported lazily so that importing one part does not import all.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> the module that defines it.
_FACADE = {
    "IncidentService": "geodata.service.incidents",
    "user_message": "geodata.service.incidents",
    "CurationService": "geodata.service.curation",
}

__all__ = sorted(_FACADE)


def __getattr__(name: str) -> Any:
    """``from geodata.service import IncidentService`` without importing every part at package import."""
    if name in _FACADE:
        return getattr(importlib.import_module(_FACADE[name]), name)
    raise AttributeError(f"module 'geodata.service' has no attribute {name!r}")
