"""The one error hierarchy of conflictmap.

Every error the project raises on purpose derives from :class:`ConflictmapError`, so the command
lines and the dashboard catch exactly this class, print its message as one line and let anything
else surface as a bug (a traceback in the log, a short message to the user). Each subclass also
derives from the built-in type it replaced (``ValueError``, ``RuntimeError``) so existing callers
keep working.

Modelled on osmnx's ``_errors.py``: a small, flat set of classes in one module.
"""

from __future__ import annotations


class ConflictmapError(Exception):
    """Base class of every error conflictmap raises on purpose; its message is for the user."""


class DataError(ConflictmapError, ValueError):
    """A data file (incidents, sites, routes, places) or a cell in it is invalid."""


class InputError(ConflictmapError, ValueError):
    """A user's argument, URL parameter or uploaded file cannot be used as given."""


class StoreFailure(ConflictmapError, RuntimeError):
    """The incident store cannot be opened, read or written."""


class UploadNotFound(InputError, KeyError):
    """There is no such upload, it was undone already, or it cannot be undone (the bundled data)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "no such upload"


class OutputError(ConflictmapError, RuntimeError):
    """An export or report cannot be written where asked."""


class SourceError(ConflictmapError, RuntimeError):
    """A remote data source (download, ACLED/UCDP API) failed or answered unexpectedly."""


class PermissionDenied(ConflictmapError, PermissionError):
    """The acting user's role may not make this change (see :mod:`geodata.model.roles`)."""
