"""The one door: every read and change of incident data goes through a service built with the actor who asks.

* :class:`geodata.service.incidents.IncidentService` — incidents: select, count, facets, uploads, undo, sync,
  users and the audit log; it hands out the curation and watch parts below.
* :class:`geodata.service.curation.CurationService` — verification, sources, sequences, duplicates.
* :mod:`geodata.service.watch` — watch areas and their digests.

Pages import from this module only (besides :mod:`geodata.model`, :mod:`geodata.settings` and
:mod:`geodata._errors`; ``tests/test_architecture.py`` checks it): the services above, and the vocabulary and
pure helpers a page needs to word and lay out what the service returned (status names, place names, upload
formats, export formats). Nothing here opens the store (:mod:`geodata.store`) on its own. The names are
imported lazily, so that importing one part does not import all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names, for type checkers; at run time __getattr__ imports them when first asked
    from geodata.curation.joined import annotate, incident_sources
    from geodata.curation.sequences import RELATION_TEXT, find_sequence, step_view
    from geodata.curation.verification import STATUS_TEXT, STATUSES, TRANSITIONS, latest_undoable
    from geodata.export.data import FORMATS, LAYER_NAMES, export_bytes, export_filename
    from geodata.export.licence import ACLED_TERMS_URL, declared_licence
    from geodata.geo.boundaries import HOW_TO_GET_BOUNDARIES
    from geodata.geo.context import Context, context_key, load_context
    from geodata.geo.enrich import buffer_features
    from geodata.geo.placenames import display_name, where
    from geodata.ingest import ColumnMapping, FileInfo, FormatError, IngestError, inspect_file, report_csv
    from geodata.ingest.formats import suggest_mapping
    from geodata.ingest.pipeline import Prepared
    from geodata.query import analysis, playback
    from geodata.query.analysis import KeyFigures, http_url_or_none
    from geodata.service.curation import CurationService
    from geodata.service.incidents import IncidentService, user_message
    from geodata.sync.credentials import configured_sources

#: Public name -> the module that defines it (a module's own name: the module itself).
_FACADE: dict[str, str] = {
    # the services
    "IncidentService": "geodata.service.incidents", "user_message": "geodata.service.incidents",
    "CurationService": "geodata.service.curation",
    # context layers
    "Context": "geodata.geo.context", "context_key": "geodata.geo.context", "load_context": "geodata.geo.context",
    "HOW_TO_GET_BOUNDARIES": "geodata.geo.boundaries", "buffer_features": "geodata.geo.enrich",
    "display_name": "geodata.geo.placenames", "where": "geodata.geo.placenames",
    # uploads
    "ColumnMapping": "geodata.ingest", "FileInfo": "geodata.ingest", "FormatError": "geodata.ingest",
    "IngestError": "geodata.ingest", "inspect_file": "geodata.ingest", "report_csv": "geodata.ingest",
    "suggest_mapping": "geodata.ingest.formats", "Prepared": "geodata.ingest.pipeline",
    # what may leave, and how
    "ACLED_TERMS_URL": "geodata.export.licence", "declared_licence": "geodata.export.licence",
    "FORMATS": "geodata.export.data", "LAYER_NAMES": "geodata.export.data", "export_bytes": "geodata.export.data",
    "export_filename": "geodata.export.data", "configured_sources": "geodata.sync.credentials",
    # summaries and playback of a selection
    "analysis": "geodata.query.analysis", "playback": "geodata.query.playback",
    "KeyFigures": "geodata.query.analysis", "http_url_or_none": "geodata.query.analysis",
    # curation vocabulary
    "STATUSES": "geodata.curation.verification", "STATUS_TEXT": "geodata.curation.verification",
    "TRANSITIONS": "geodata.curation.verification", "latest_undoable": "geodata.curation.verification",
    "annotate": "geodata.curation.joined", "incident_sources": "geodata.curation.joined",
    "RELATION_TEXT": "geodata.curation.sequences", "find_sequence": "geodata.curation.sequences",
    "step_view": "geodata.curation.sequences",
}

__all__ = [
    "ACLED_TERMS_URL", "ColumnMapping", "Context", "CurationService", "FORMATS", "FileInfo", "FormatError",
    "HOW_TO_GET_BOUNDARIES", "IncidentService", "IngestError", "KeyFigures", "LAYER_NAMES", "Prepared",
    "RELATION_TEXT", "STATUSES", "STATUS_TEXT", "TRANSITIONS", "analysis", "annotate", "buffer_features",
    "configured_sources", "context_key", "declared_licence", "display_name", "export_bytes", "export_filename",
    "find_sequence", "http_url_or_none", "incident_sources", "inspect_file", "latest_undoable", "load_context",
    "playback", "report_csv", "step_view", "suggest_mapping", "user_message", "where",
]


def __getattr__(name: str) -> Any:
    """``from geodata.service import IncidentService`` without importing every part at package import."""
    module = _FACADE.get(name)
    if module is None:
        raise AttributeError(f"module 'geodata.service' has no attribute {name!r}")
    found = importlib.import_module(module)
    return found if module.rsplit(".", 1)[-1] == name else getattr(found, name)
