"""What leaves conflictmap: data exports, safe files, spreadsheet-safe CSV, printable text, licences."""
