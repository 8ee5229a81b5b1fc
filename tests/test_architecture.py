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
    assert _offending("layers", ("geodata.store", "geodata.service", "geodata.sync",
                                 "streamlit", "dashboard")) == {}


def test_drawing_never_reads_settings_or_layer_files():
    """Drawing gets what it draws from its caller (the Kosovo outline included: Context.country)."""
    assert _offending("layers", ("geodata.geo.boundaries", "geodata.geo.routes", "geodata.geo.sites",
                                 "geodata.geo.context")) == {}
    readers = {}
    for path in sorted((REPO / "layers").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "geodata.settings":
                names = sorted(a.name for a in node.names if a.name in ("get_settings", "Settings", "load_settings"))
                if names:
                    readers[str(path.relative_to(REPO))] = names
    assert readers == {}


def test_pages_import_only_the_service_the_model_and_the_settings():
    """Issue 19 item 1: a page reaches data through ``geodata.service`` (the services and the façade of
    vocabulary and helpers in its ``__init__``), besides the model, the settings and the error classes.
    ``dashboard/cli.py`` is a command line (``python -m dashboard export-html``), held to the command-line rule."""
    allowed = ("geodata.service", "geodata.model", "geodata.settings", "geodata._errors")
    bad = {}
    for path in sorted((REPO / "dashboard").rglob("*.py")):
        if path == REPO / "dashboard" / "cli.py":
            continue
        found = sorted(m for m in _imports(path) if (m == "geodata" or m.startswith("geodata."))
                       and not any(m == a or m.startswith(a + ".") for a in allowed))
        if found:
            bad[str(path.relative_to(REPO))] = found
    assert bad == {}


def test_pages_never_reach_the_store_or_the_sync_engine():
    assert _offending("dashboard", ("geodata.store", "geodata.sync.engine")) == {}


def test_command_lines_change_data_only_through_the_service():
    """Every command (ingest, uploads and undo included: whether a store exists is the service's
    question) goes through the service; no command module imports the store."""
    bad = {}
    for path in [*sorted((REPO / "geodata" / "cli").glob("*.py")), REPO / "geodata" / "sync" / "cli.py",
                 REPO / "dashboard" / "cli.py"]:
        found = sorted(m for m in _imports(path) if m == "geodata.store" or m.startswith("geodata.store."))
        if found:
            bad[str(path.relative_to(REPO))] = found
    assert bad == {}


def test_the_curation_part_is_handed_out_by_the_incident_service():
    """One object is the door: outside the service package, nobody builds a CurationService; pages and
    commands ask ``IncidentService.curation()`` for it."""
    built = {}
    for folder in ("geodata", "dashboard", "layers"):
        for path in sorted((REPO / folder).rglob("*.py")):
            if path.parent == REPO / "geodata" / "service":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "CurationService":
                    built[str(path.relative_to(REPO))] = node.lineno
    assert built == {}


def _module_graph() -> dict[str, set[str]]:
    """Project module → project modules it imports (at any depth: lazy imports in functions count)."""
    paths = {}
    for folder in ("geodata", "layers", "dashboard"):
        for path in (REPO / folder).rglob("*.py"):
            if "static" in path.parts:
                continue
            name = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
            paths[name] = path
    graph = {}
    for name, path in paths.items():
        found = set()
        for m in _imports(path):
            parts = m.split(".")
            # "from geodata.store import users_sql" names a module too: keep the longest known prefix
            found.update(".".join(parts[:k]) for k in range(len(parts), 0, -1) if ".".join(parts[:k]) in paths)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.update(f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in paths)
        graph[name] = {m for m in found if m != name and not name.startswith(m + ".")}
    return graph


def test_no_import_cycles_even_through_imports_inside_functions():
    graph = _module_graph()
    assert "geodata.service.incidents" in graph and graph["geodata.service.incidents"]  # the walk sees the package
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle.extend(path[path.index(nxt):] + [node, nxt] if nxt in path else [node, nxt])
                return True
            if nxt not in state and visit(nxt, path + [node]):
                return True
        state[node] = 2
        return False

    for start in sorted(graph):
        if start not in state and visit(start, []):
            break
    assert cycle == [], " -> ".join(cycle)


def test_the_folders_show_the_parts():
    """geodata/ holds its parts as sub-packages (issue 19 item 5); at the top only the package's entry,
    the one error hierarchy and the one configuration; every part says in one line what it holds."""
    top = sorted(p.name for p in (REPO / "geodata").glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "_errors.py", "settings.py"]
    parts = sorted(p.parent.name for p in (REPO / "geodata").glob("*/__init__.py"))
    assert parts == ["cli", "curation", "export", "geo", "ingest", "model", "query", "service", "store", "sync"]
    for part in parts:
        doc = ast.get_docstring(ast.parse((REPO / "geodata" / part / "__init__.py").read_text(encoding="utf-8")))
        assert doc and len(doc.splitlines()[0]) > 20, part


def test_the_service_package_is_the_door_pages_import():
    """``from geodata.service import IncidentService`` is the façade; the names resolve lazily."""
    import geodata.service as door
    from geodata.service.curation import CurationService
    from geodata.service.incidents import IncidentService

    assert door.IncidentService is IncidentService and door.CurationService is CurationService
    assert sorted(door.__all__) == sorted(door._FACADE)
    for name in door.__all__:  # every name the façade lists resolves, and to what its module defines
        assert getattr(door, name) is not None, name
    import pytest

    with pytest.raises(AttributeError):
        door.open_store  # noqa: B018 - the store is not part of the door
