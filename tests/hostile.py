"""A selection whose every text field from data is hostile (HTML, script, template-literal tricks)."""

from __future__ import annotations

from geodata.geo.enrich import enrich_incidents
from geodata.model.filters import FilterSpec
from geodata.ingest.bundled import load_bundled_incidents
from geodata.geo.routes import load_routes
from geodata.model.selection import Selection
from geodata.settings import BUNDLED_DIR
from geodata.geo.sites import load_sites

HOSTILE = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "`alert(1)`",
    "notes with </script><script>alert(1)</script> inside",
    "${alert(1)}",
    '"><svg onload=alert(1)>',
    "\\`);alert(1);//",
)
JS_URL = "javascript:alert(1)"


def hostile_selection(municipalities=None) -> Selection:
    """Bundled incidents/sites/routes with hostile text everywhere; one source_url is ``javascript:``.

    Built directly as GeoDataFrames: validation would reject the non-http URL.
    """
    inc = load_bundled_incidents().head(len(HOSTILE)).copy().reset_index(drop=True)
    for i, text in enumerate(HOSTILE):
        for col in ("notes", "actor1", "actor2", "location", "source", "assoc_actor_1"):
            inc.loc[i, col] = text
    inc.loc[0, "source_url"] = JS_URL
    routes = load_routes(BUNDLED_DIR / "patrol_routes.geojson")
    routes.loc[0, "name"] = HOSTILE[0]
    routes.loc[1, "name"] = HOSTILE[4]
    routes["basis"] = HOSTILE[6]
    sites = load_sites()
    sites.loc[0, "name_en"] = HOSTILE[1]
    sites["notes"] = HOSTILE[4] + " " + HOSTILE[6]
    enriched = enrich_incidents(inc, municipalities, routes, sites)
    spec = FilterSpec(text="", actors=(HOSTILE[0],))  # the title shows hostile filter text too
    return Selection(incidents=enriched, spec=spec, municipalities=municipalities, routes=routes, sites=sites)
