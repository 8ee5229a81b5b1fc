"""The parts stay apart (issues 17 and 19): drawing code never opens the store or the service, and
pages never reach the store or the sync engine: they go through the service. Read from the imports."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports (at any depth: also inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _offending(folder: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    out = {}
    for path in sorted((REPO / folder).rglob("*.py")):
        bad = sorted(m for m in _imports(path) if any(m == f or m.startswith(f + ".") for f in forbidden))
        if bad:
            out[str(path.relative_to(REPO))] = bad
    return out


def test_drawing_never_opens_the_store_the_service_or_streamlit():
    assert _offending("layers", ("geodata.store", "geodata.service", "geodata.curation_service", "geodata.sync",
                                 "streamlit", "dashboard")) == {}


def test_pages_never_reach_the_store_or_the_sync_engine():
    assert _offending("dashboard", ("geodata.store", "geodata.sync.engine")) == {}
