"""CSV ingest: reading awkward files, recognising ACLED/UCDP/mapped formats, validating, storing."""

from geodata.ingest.formats import ColumnMapping, FormatError
from geodata.ingest.pipeline import IngestError, IngestReport, Prepared, ingest_file, prepare, report_csv, store_prepared

__all__ = ["ColumnMapping", "FormatError", "IngestError", "IngestReport", "Prepared", "ingest_file", "prepare",
           "report_csv", "store_prepared"]
