"""The PNG export: place labels, scale bar, geography, and density instead of overplotted dots."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np

from geodata.model.filters import FilterSpec
from geodata.model.selection import Selection
from layers.static_png import DENSITY_LIMIT, _nice_length, map_figure, render_png
from layers.style import EVENT_COLORS
from tests.synthetic import synthetic_incidents
from tests.test_export_html import bundled_selection

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def _share_of(img: np.ndarray, hex_colour: str) -> float:
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0
    return float((np.abs(img[..., :3] - rgb).max(axis=2) < 0.02).mean())


def test_scale_bar_lengths_are_round():
    assert [_nice_length(k) for k in (0.7, 3.4, 9.9, 18, 260)] == [0.5, 2, 5, 10, 200]


def test_small_selection_shows_dots_and_large_one_density(clean_env):
    ARTIFACTS.mkdir(exist_ok=True)
    small = bundled_selection()
    png_small = render_png(small, dpi=60)
    (ARTIFACTS / "map-png-bundled.png").write_bytes(png_small)
    big = Selection(synthetic_incidents(DENSITY_LIMIT * 3), FilterSpec(), None, small.routes, small.sites)
    png_big = render_png(big, dpi=60)
    (ARTIFACTS / "map-png-density.png").write_bytes(png_big)
    img_small = mpimg.imread(io.BytesIO(png_small), format="png")
    img_big = mpimg.imread(io.BytesIO(png_big), format="png")
    protests = EVENT_COLORS["Protests"]
    assert _share_of(img_small, protests) > 0  # event-type dots
    # Density hexagons in a sequential warm ramp cover the data area, and no event-type dot is drawn.
    assert _share_of(img_big, protests) < 1e-4
    def warm(img):
        return float(((img[..., 0] > 0.7) & (img[..., 2] < 0.45)).mean())
    assert warm(img_big) > 0.15 > warm(img_small)


def test_printed_names_and_ring_counts_never_overlap_and_no_name_is_printed_twice(clean_env, municipalities):
    """The PNG once printed ring counts on top of each other (Banjska's two spots) and each municipality's
    name twice, one copy under "Čabra"."""
    sel = bundled_selection(municipalities=municipalities)
    fig = map_figure(sel, dpi=100)
    fig.canvas.draw()
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    texts = [t for t in ax.texts if t.get_text().strip() and t.get_visible()]
    names = [t.get_text() for t in texts if not t.get_text().isdigit()]
    assert len(names) == len(set(names)), sorted(names)
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            assert not ba.overlaps(bb), (a, b)
    counts = [int(t.get_text()) for t in texts if t.get_text().isdigit()]
    assert sum(counts) + sum(1 for _ in ()) <= len(sel.incidents) and max(counts) >= 12
