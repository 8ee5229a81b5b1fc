"""conflictmap data: schemas, loading, validation, enrichment, storage and bundled files.

Importing this package never imports Streamlit (the dashboard is one consumer among several).
"""
