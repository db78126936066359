"""diff.html: self-contained, in the user's language, and drawn by a real browser (headless
Chromium): one bar per changed column, widths in proportion to the counts."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from migrate.report.diffpage import BAR_COLOUR, render_diff, write_diff_html

DOCUMENT = {
    "a": {"path": "old/juki.csv", "layout": "juki/v1", "rows": 1000, "duplicate_keys": 0},
    "b": {"path": "new/juki.parquet", "layout": "juki/v1", "rows": 999, "duplicate_keys": 0},
    "key": ["atena_no"], "ignored": ["shori_date"], "tolerance": 0.5,
    "columns_compared": ["shimei_kana", "birth_date", "sex"],
    "columns_only_in_a": [], "columns_only_in_b": [],
    "only_in_a": {"count": 3, "sample": ["100000001", "100000002", "100000003"]},
    "only_in_b": {"count": 2, "sample": ["900000001", "900000002"]},
    "changed": {"count": 40, "sample": ["100000010"],
                "by_column": {"shimei_kana": {"count": 40, "sample": ["100000010"]},
                              "birth_date": {"count": 10, "sample": ["100000011"]}}},
    "equal": False, "seconds": 0.1,
}


def test_page_holds_counts_chart_and_samples_only():
    html = render_diff(DOCUMENT, "en")
    assert 'data-equal="false"' in html and 'data-count="40"' in html
    assert html.count('class="bar-row"') == 2
    assert "<script" not in html and "<link" not in html
    assert "900000002" in html


def test_page_in_japanese():
    html = render_diff(DOCUMENT, "ja")
    assert 'lang="ja"' in html and "Comparison of two datasets" not in html


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed; .ci/chromium.sh installs it")
    pytest.skip("chromium is not installed (apt-get install chromium)")


def test_screenshot_draws_one_bar_per_changed_column(tmp_path):
    chromium = _chromium()
    page = write_diff_html(DOCUMENT, tmp_path / "diff.html", "en")
    png = tmp_path / "diff.png"
    done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-background-networking", "--disable-component-update",
                           "--no-first-run", "--disable-sync",
                           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}",
                           "--window-size=1000,900", "--hide-scrollbars",
                           page.resolve().as_uri()],
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    image_module = pytest.importorskip("PIL.Image")
    with image_module.open(png) as opened:
        image = opened.convert("RGB")
    colour = tuple(int(BAR_COLOUR[i:i + 2], 16) for i in (1, 3, 5))
    pixels = image.load()
    width, height = image.size

    def is_bar(x: int, y: int) -> bool:
        return all(abs(a - b) <= 6 for a, b in zip(pixels[x, y], colour, strict=True))

    rows = [any(is_bar(x, y) for x in range(0, width, 2)) for y in range(height)]
    bands, start = [], None
    for y, hit in enumerate([*rows, False]):
        if hit and start is None:
            start = y
        elif not hit and start is not None:
            bands.append((start, y))
            start = None
    assert len(bands) == 2, bands
    widths = []
    for top, bottom in bands:
        y = (top + bottom) // 2
        xs = [x for x in range(width) if is_bar(x, y)]
        widths.append(xs[-1] - xs[0] + 1)
    assert widths[0] > widths[1] and abs(widths[1] / widths[0] - 10 / 40) < 0.05
