"""CSV ingest: reading awkward files, recognising ACLED/UCDP/mapped formats, validating, storing."""

from geodata.ingest.formats import ColumnMapping, FormatError
from geodata.ingest.pipeline import FileInfo, IngestError, inspect_file, IngestReport, Prepared, ingest_file, prepare, report_csv, store_prepared

__all__ = ["FileInfo", "inspect_file", "ColumnMapping", "FormatError", "IngestError", "IngestReport", "Prepared", "ingest_file", "prepare",
           "report_csv", "store_prepared"]
