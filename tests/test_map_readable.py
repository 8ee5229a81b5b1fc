"""Readable at a glance (issue 17, item 8), measured in headless Chromium on the bundled data.

On a phone the controls start out of the way (layer control a button, basemap notice clear of "+"),
popups fit the map, and the legend starts closed wherever it would cover much of the map. Place labels
are moved off the ring drawn on their own point and never lie on another place's marker. Region-level
uncertainty circles are faint outlines. Boxes are measured in the page, never assumed.
"""

from __future__ import annotations

import pytest

from tests.test_export_html import bundled_selection
from tests.test_map_browser import browser, no_installed_outline, open_map  # noqa: F401 (fixtures)

from layers.export_html import build_export
from geodata.model.selection import Selection

BOX = "e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }"


def _overlap(a, b, slack: float = 0.5) -> bool:
    return a[0] < b[2] - slack and b[0] < a[2] - slack and a[1] < b[3] - slack and b[1] < a[3] - slack


def _export(tiles: str | None = None) -> str:
    sel = bundled_selection()
    if tiles:
        sel = Selection(sel.incidents, sel.spec, sel.municipalities, sel.routes, sel.sites, tiles=tiles,
                        tiles_attribution="Example tiles", curation=sel.curation)
    return build_export(sel).html


def test_on_a_phone_controls_stay_off_the_map_and_popups_fit(browser, tmp_path, no_installed_outline):  # noqa: F811
    page = open_map(browser, _export("https://tile.example.org/{z}/{x}/{y}.png"), tmp_path, (390, 844))
    note = page.locator(".cm-basemap-note")
    note.wait_for(state="visible", timeout=10_000)  # tiles cannot load here
    zoom = page.locator(".leaflet-control-zoom").evaluate(BOX)
    layers = page.locator(".leaflet-control-layers").evaluate(BOX)
    assert not _overlap(note.evaluate(BOX), zoom) and not _overlap(note.evaluate(BOX), layers)
    # Nor over the exported map's Sequence chooser or its title.
    assert page.locator(".cm-sequence").count() == 1
    for other in (".cm-sequence", ".cm-title"):
        assert not _overlap(note.evaluate(BOX), page.locator(other).evaluate(BOX)), other
    # The layer control is a button until tapped, and then lists every layer.
    assert not page.locator(".leaflet-control-layers-list").is_visible()
    assert layers[2] - layers[0] < 60
    page.locator(".leaflet-control-layers").hover()
    assert "Incidents" in page.locator(".leaflet-control-layers-list").inner_text()
    page.mouse.move(200, 700)
    # A popup fits the map's width.
    # (an incident marker nothing else is drawn over, clicked where a finger would, once the map has
    # settled after switching to the offline basemap)
    page.wait_for_function("() => !document.querySelector('.leaflet-container').classList.contains('leaflet-zoom-anim')")
    page.wait_for_timeout(1500)
    spot = page.evaluate("""() => { for (const p of document.querySelectorAll('path.cm-incident')) {
        const r = p.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
        if (r.width && document.elementFromPoint(x, y) === p) return [x, y]; } return null; }""")
    assert spot, "no uncovered incident marker on the phone map"
    page.mouse.click(*spot)
    box = page.wait_for_function("""() => { const p = document.querySelector('.leaflet-popup-content-wrapper');
        if (!p) return null; const r = p.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }""",
                                 timeout=10_000).json_value()
    width = page.locator(".leaflet-container").evaluate("e => e.clientWidth")
    assert box[2] - box[0] <= width - 20, (box, width)
    assert page.cm_errors == []


@pytest.mark.parametrize("size,opened", [((1000, 700), False), ((1440, 900), True)])
def test_the_legend_starts_closed_where_it_would_cover_much_of_the_map(browser, tmp_path, no_installed_outline,  # noqa: F811
                                                                      size, opened):
    page = open_map(browser, _export(), tmp_path, size)
    legend = page.locator(".cm-legend")
    initially = legend.evaluate("e => e.open")
    legend.evaluate("e => { e.open = true; }")
    area = legend.evaluate("e => e.offsetWidth * e.offsetHeight")
    mapped = page.locator(".leaflet-container").evaluate("e => e.clientWidth * e.clientHeight")
    assert initially == (area <= 0.10 * mapped) == opened, (area, mapped)


def test_place_labels_clear_the_rings_of_other_places(browser, tmp_path, no_installed_outline):  # noqa: F811
    page = open_map(browser, _export(), tmp_path, (1440, 900))
    page.wait_for_timeout(400)
    shown = page.evaluate("""() => Array.from(document.querySelectorAll('.cm-label-pt'))
        .filter(e => e.style.display !== 'none').map(e => {
            const r = e.firstChild.getBoundingClientRect();
            return [e.firstChild.textContent, [r.left, r.top, r.right, r.bottom]]; })""")
    marks = page.evaluate(f"""() => Array.from(document.querySelectorAll('.cm-cluster, path.cm-incident')).map({BOX})""")
    assert shown and marks
    for name, box in shown:
        for mark in marks:
            assert not _overlap(box, mark, slack=2), (name, box, mark)
    # The place with the most incidents keeps its name, beside its ring.
    names = [n for n, _ in shown]
    assert any(n.startswith("Zve") for n in names), names


@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_no_place_name_is_nearer_another_places_marker_than_its_own(browser, tmp_path, no_installed_outline,  # noqa: F811
                                                                   size):
    """A reader takes the nearest ring's count for the named place (in the export on a phone "North
    Mitrovica" once sat beside Zubin Potok's ring of 9 while "Zubin Potok" was dropped)."""
    page = open_map(browser, _export(), tmp_path, size)
    page.wait_for_timeout(600)
    found = page.evaluate("""() => {
        const map = Object.values(window).find(v => v instanceof L.Map), root = map.getContainer();
        const at = root.getBoundingClientRect();
        const marks = Array.from(root.querySelectorAll('.cm-cluster, path.cm-incident')).map(n => {
            const r = n.getBoundingClientRect(); return [r.left - at.left, r.top - at.top, r.right - at.left, r.bottom - at.top]; })
            .filter(q => q[2] > q[0]);
        const gap = (b, x, y) => Math.hypot(Math.max(b[0] - x, 0, x - b[2]), Math.max(b[1] - y, 0, y - b[3]));
        const out = [];
        map.eachLayer(l => {
            if (!l.cm || !l.getElement() || l.getElement().style.display === 'none'
                || !l.getElement().classList.contains('cm-label-pt')) return;
            const r = l.getElement().firstChild.getBoundingClientRect();
            const b = [r.left - at.left, r.top - at.top, r.right - at.left, r.bottom - at.top];
            const p = map.latLngToContainerPoint([l.cm.lat, l.cm.lon]);
            const own = marks.filter(q => p.x >= q[0] && p.x <= q[2] && p.y >= q[1] && p.y <= q[3]);
            const mine = own.length ? gap(b, (own[0][0] + own[0][2]) / 2, (own[0][1] + own[0][3]) / 2) : gap(b, p.x, p.y);
            const other = Math.min(...marks.filter(q => !own.includes(q))
                .map(q => gap(b, (q[0] + q[2]) / 2, (q[1] + q[3]) / 2)));
            out.push([l.getElement().firstChild.textContent, mine, other]);
        });
        return out; }""")
    assert found
    for name, mine, other in found:
        assert mine <= other, (name, mine, other)


def test_region_level_circles_are_faint_outlines(browser, tmp_path, no_installed_outline):  # noqa: F811
    page = open_map(browser, _export(), tmp_path, (1440, 900))
    wide = page.locator("path.cm-uncertainty-wide")
    assert wide.count() >= 1  # the bundled data has region-level incidents (geo_precision 3)
    for i in range(wide.count()):
        style = wide.nth(i).evaluate("e => [e.getAttribute('stroke-opacity'), e.getAttribute('fill-opacity')]")
        assert float(style[0]) <= 0.4 and float(style[1]) == 0.0
    town = page.locator("path.cm-uncertainty:not(.cm-uncertainty-wide)")
    assert town.count() >= 1 and float(town.first.get_attribute("stroke-opacity")) > 0.4
