"""report.html: the facts of run.json on one self-contained page, without personal data."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import stat
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from migrate.i18n import t
from migrate.read.fixed import file_sha256
from migrate.reconcile.reasons import REASONS
from migrate.report.html import BAR_COLOUR, CHART_BAR_AREA, EXAMPLES_PER_REASON, write_report
from migrate.run.pipeline import RunOptions, run
from migrate.synth.generate import generate

ROWS = 2000
DEFECTS = 40


def _run(tmp_path_factory, mapping, *, rows=ROWS, defects=DEFECTS, edit=None, **options):
    base = tmp_path_factory.mktemp("report")
    source = base / "juki.dat"
    generate(mapping, source, rows, seed=11, defects=defects)
    if edit:
        source.write_bytes(edit(source.read_bytes(), mapping.source.stride))
    result = run(RunOptions(mapping, source, base / "out", **options))
    document = json.loads(result.run_json.read_text(encoding="utf-8"))
    return result.run_json.parent, result, document  # OUT, or the failed-run folder


@pytest.fixture(scope="module")
def reported(tmp_path_factory, juki_mapping):
    out, result, document = _run(tmp_path_factory, juki_mapping)
    path = write_report(document, out)
    return out, document, path, path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def clean(tmp_path_factory, juki_mapping):
    out, result, document = _run(tmp_path_factory, juki_mapping, rows=300, defects=0)
    return document, write_report(document, out).read_text(encoding="utf-8")


def _drop_a_data_record(data: bytes, stride: int) -> bytes:
    """Lose record 6 on the way: the trailer still counts it (a broken invariant)."""
    return data[:5 * stride] + data[6 * stride:]


@pytest.fixture(scope="module")
def failed(tmp_path_factory, juki_mapping):
    out, result, document = _run(tmp_path_factory, juki_mapping, rows=300, defects=12,
                                 edit=_drop_a_data_record, max_rejects=2)
    assert result.exit_code == 1
    return document, write_report(document, out).read_text(encoding="utf-8")


class Elements(HTMLParser):
    """id → (tag, attributes, text) and all elements with a class, from an HTML text."""

    def __init__(self, text: str):
        super().__init__()
        self.by_id: dict[str, dict] = {}
        self.all: list[dict] = []
        self._open: list[dict] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.all.append(element)
        if "id" in element["attrs"]:
            self.by_id[element["attrs"]["id"]] = element
        if tag not in ("br", "meta", "line", "rect", "input", "img"):
            self._open.append(element)

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for element in self._open:
            element["text"] += data

    def with_class(self, name: str) -> list[dict]:
        return [e for e in self.all if name in e["attrs"].get("class", "").split()]


def _expected_examples(out: Path) -> dict[str, list[str]]:
    rejects = pl.read_csv(out / "rejects.csv", infer_schema=False)
    examples: dict[str, list[str]] = {}
    for reason, value in rejects.select("reason", "value").iter_rows():
        examples.setdefault(reason, []).append(value)
    return examples


# ---------------------------------------------------------------------------- content


def test_written_atomically_private_and_self_contained(reported):
    out, _, path, text = reported
    assert path == out / "report.html"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(out.glob(".report.html.tmp-*"))
    lowered = text.lower()
    for needle in ("<script", "<link", "<img", "<iframe", "@import", "url(", "src=", "href="):
        assert needle not in lowered, needle
    # the only URL is the SVG namespace name, which is never fetched
    assert re.findall(r"https?://[^\s\"'<>]+", text) == ["http://www.w3.org/2000/svg"]


def test_status_funnel_and_checks(reported):
    out, document, _, text = reported
    rec = document["reconciliation"]
    page = Elements(text)
    assert page.by_id["status"]["attrs"]["data-status"] == "reconciled"
    assert "failures" not in page.by_id
    funnel = page.by_id["funnel"]["attrs"]
    assert (int(funnel["data-read"]), int(funnel["data-accepted"]),
            int(funnel["data-rejected"])) == (ROWS, rec["accepted"], rec["rejected"])
    assert rec["rejected"] == DEFECTS
    assert f"{ROWS:,}" in page.by_id["funnel-read"]["text"]
    for sink in ("csv", "parquet", "database"):
        element = page.by_id[f"funnel-sink-{sink}"]
        assert int(element["attrs"]["data-count"]) == rec["accepted"]
        assert f"{rec['accepted']:,}" in element["text"]
    rows = page.with_class("invariant")
    assert [r["attrs"]["data-name"] for r in rows] == [i["name"] for i in rec["invariants"]]
    assert all(r["attrs"]["data-ok"] == "true" for r in rows)


def test_inputs_layouts_outputs_and_totals(reported):
    out, document, _, text = reported
    assert document["input"]["sha256"] in text
    assert f"{document['input']['bytes']:,}" in text
    assert document["mapping"]["id"] in text and document["mapping"]["sha256"] in text
    assert document["schema"]["id"] in text and document["schema"]["sha256"] in text
    for output in document["outputs"].values():
        assert output["sha256"] in text
    # run.json is on disk and holds this document, so its own hash is listed too
    assert file_sha256(out / "run.json") in text
    page = Elements(text)
    total = document["trailer"]["control_totals"]["atena_no"]
    row = page.by_id["total-atena_no"]["text"]
    assert row.count(f"{total:,}") == 3  # trailer = sum read = output + rejected
    rejected = document["reconciliation"]["control_totals"]["rejected"]["atena_no"]
    assert f"{total - rejected:,}" in row and f"{rejected:,}" in row
    count = page.by_id["total-count"]["text"]
    assert count.count(f"{ROWS:,}") == 3


def test_rejects_by_reason_with_masked_examples(reported):
    out, document, _, text = reported
    by_reason = document["reconciliation"]["rejected_records_by_reason"]
    page = Elements(text)
    bars = page.with_class("bar-row")
    assert {b["attrs"]["data-reason"]: int(b["attrs"]["data-count"]) for b in bars} == by_reason
    expected = _expected_examples(out)
    rows = {e["attrs"]["data-reason"]: e for e in page.all
            if e["tag"] == "tr" and "data-reason" in e["attrs"]}
    assert set(rows) == set(document["reconciliation"]["problems_by_reason"])
    capped = False
    for reason, values in expected.items():
        shown = re.findall(r"<li class=\"example\">.*?<code>(.*?)</code></li>",
                           text.split(f'<tr data-reason="{reason}">')[1].split("</tr>")[0])
        assert [html.unescape(v) for v in shown] == \
            [v if v is not None else "—" for v in values[:EXAMPLES_PER_REASON]]
        capped |= len(values) > EXAMPLES_PER_REASON
        assert t(REASONS[reason][0], "en") in rows[reason]["text"]
    assert capped, "no reason had more than 3 rejects; the cap was not exercised"


def test_no_personal_data(reported):
    """Names, My Numbers and addresses of the written records never reach the report."""
    out, _, _, text = reported
    page = html.unescape(text)
    written = pl.read_csv(out / "juki.csv", infer_schema=False)
    checked = 0
    for column in ("kojin_no", "shimei", "addr_banchi"):
        for value in written[column].drop_nulls().unique().to_list():
            value = value.strip()
            assert value not in page, (column, value)
            assert value.replace("\u3000", " ") not in page, (column, value)
            checked += 1
    assert checked > 1000
    # My Numbers of rejected records appear only masked (last 4 digits)
    for value in re.findall(r"\b\d{12}\b", page):
        assert value not in set(written["kojin_no"].drop_nulls().to_list())


def test_zero_rejects(clean):
    document, text = clean
    assert document["reconciliation"]["rejected"] == 0
    page = Elements(text)
    assert page.by_id["status"]["attrs"]["data-status"] == "reconciled"
    assert int(page.by_id["funnel-rejected"]["attrs"]["data-count"]) == 0
    assert "rejects-chart" not in page.by_id
    assert "rejects-table" not in page.by_id
    assert t("No record was rejected.", "en") in page.by_id["rejects-empty"]["text"]


def test_failed_run(failed):
    document, text = failed
    assert document["status"] == "failed"
    page = Elements(text)
    assert page.by_id["status"]["attrs"]["data-status"] == "failed"
    assert "banner failed" in text
    failures = page.by_id["failures"]["text"]
    assert t("record count in the trailer = data records read", "en") in failures
    assert "--max-rejects" in failures
    broken = {r["attrs"]["data-name"] for r in page.with_class("invariant")
              if r["attrs"]["data-ok"] == "false"}
    assert "trailer_count" in broken
    assert "trailer_count" in {i["name"] for i in document["reconciliation"]["invariants"]
                               if not i["ok"]}
    assert "fail" in page.by_id["total-count"]["text"].lower() or \
        "failed" in page.by_id["total-count"]["attrs"].get("class", "")


def test_japanese(reported, tmp_path, monkeypatch):
    out, document, _, english = reported
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    text = write_report(document, tmp_path, rejects_csv=out / "rejects.csv") \
        .read_text(encoding="utf-8")
    assert '<html lang="ja">' in text
    for msgid in ("Migration run report", "Where the records went", "Control totals",
                  "Rejected records by reason", "Reconciled"):
        translated = t(msgid, "ja")
        assert translated != msgid and translated in text, msgid
        assert msgid not in text
    assert t("the same key as an earlier record", "ja") in text
    page = Elements(text)
    assert int(page.by_id["funnel"]["attrs"]["data-read"]) == ROWS
    assert len(page.with_class("bar-row")) == len(
        document["reconciliation"]["rejected_records_by_reason"])


# ---------------------------------------------------------------------------- headless browser


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed; .ci/chromium.sh installs it (Debian package "
                    "`chromium`)")
    pytest.skip("chromium is not installed (apt-get install chromium)")


def _browser(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--disable-sync", f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, timeout=120, check=False)


def _bands(rows: list[bool]) -> list[tuple[int, int]]:
    bands, start = [], None
    for y, hit in enumerate([*rows, False]):
        if hit and start is None:
            start = y
        elif not hit and start is not None:
            bands.append((start, y))
            start = None
    return bands


@pytest.mark.parametrize("lang", ["en_US.UTF-8", "ja_JP.UTF-8"])
def test_screenshot_shows_funnel_and_chart(reported, tmp_path, monkeypatch, lang):
    chromium = _chromium()
    out, document, path, _ = reported
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", lang)
    path = write_report(document, tmp_path, rejects_csv=out / "rejects.csv")  # in `lang`
    assert f'<html lang="{lang[:2]}"' in path.read_text(encoding="utf-8")
    rec = document["reconciliation"]
    url = path.resolve().as_uri()

    dom = _browser(chromium, tmp_path / "profile-dom", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    page = Elements(dom.stdout.decode("utf-8"))
    funnel = page.by_id["funnel"]
    assert funnel["attrs"]["data-read"] == str(rec["data_records_read"])
    assert f"{rec['accepted']:,}" in page.by_id["funnel-accepted"]["text"]
    assert f"{rec['rejected']:,}" in page.by_id["funnel-rejected"]["text"]
    chart = page.by_id["rejects-chart"]
    assert chart["tag"] == "svg"
    bars = page.with_class("bar-row")
    counts = [int(b["attrs"]["data-count"]) for b in bars]
    assert dict(zip([b["attrs"]["data-reason"] for b in bars], counts, strict=True)) == \
        rec["rejected_records_by_reason"]
    assert counts == sorted(counts, reverse=True)  # largest first
    assert len(page.with_class("bar")) == len(bars)

    png = tmp_path / "report.png"
    shot = _browser(chromium, tmp_path / "profile-shot", f"--screenshot={png}",
                    "--window-size=1280,2000", "--hide-scrollbars", url)
    assert shot.returncode == 0, shot.stderr.decode(errors="replace")[-2000:]
    assert png.is_file() and png.stat().st_size > 30_000
    image_module = pytest.importorskip("PIL.Image")
    with image_module.open(png) as opened:
        image = opened.convert("RGB")
    assert image.size == (1280, 2000)
    assert len(image.getcolors(maxcolors=1 << 20) or []) > 50  # not a blank page
    colour = tuple(int(BAR_COLOUR[i:i + 2], 16) for i in (1, 3, 5))
    width, height = image.size
    pixels = image.load()

    def is_bar(x: int, y: int) -> bool:
        return all(abs(a - b) <= 6 for a, b in zip(pixels[x, y], colour, strict=True))

    rows = [any(is_bar(x, y) for x in range(0, width, 2)) for y in range(height)]
    bands = _bands(rows)
    assert len(bands) == len(bars), bands  # one painted bar per reason, in the first screen
    widths = []
    for top, bottom in bands:
        y = (top + bottom) // 2
        xs = [x for x in range(width) if is_bar(x, y)]
        widths.append(xs[-1] - xs[0] + 1)
    assert abs(max(widths) - CHART_BAR_AREA) <= 2, widths
    for w, count in zip(widths, counts, strict=True):  # top to bottom, as in the DOM
        assert abs(w - CHART_BAR_AREA * count / max(counts)) <= 3, (widths, counts)


@pytest.mark.parametrize("lang", ["en_US.UTF-8", "ja_JP.UTF-8"])
def test_plan_report_lists_every_area_in_a_browser(tmp_path, monkeypatch, lang):
    """The migration plan's report.html, as Chromium renders it: one row per business area with
    its figures, the cross-file checks, and a screenshot of the chart of records by area
    (accepted bars as long as the records accepted, in English and Japanese)."""
    import json

    from migrate.layouts.plan import load_plan
    from migrate.report.html import CHART_BAR_AREA
    from migrate.report.planreport import PLAN_ACCEPTED
    from migrate.run.plan import run_plan
    from migrate.synth.sets import generate_set

    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", lang)
    chromium = _chromium()
    generate_set(tmp_path / "set", 1500, seed=6, defects=3)
    result = run_plan(load_plan(tmp_path / "set" / "migration.yaml"), tmp_path / "out",
                      db_url="none", workers=1)
    document = json.loads(result.run_json.read_text(encoding="utf-8"))
    dom = _browser(chromium, tmp_path / "profile", "--dump-dom", result.report.resolve().as_uri())
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    page = Elements(dom.stdout.decode("utf-8"))
    areas = page.with_class("area")
    assert [a["attrs"]["data-layout"] for a in areas] == document["order"]
    assert [a["attrs"]["data-rejected"] for a in areas] == [str(f["rejected"])
                                                            for f in document["files"]]
    checks = {(c["attrs"]["data-check"], c["attrs"]["data-layout"])
              for c in page.with_class("cross")}
    assert ("group", "juki/v1") in checks and ("reference", "zeimu/v1") in checks
    bars = page.with_class("area-bar")
    assert [b["attrs"]["data-layout"] for b in bars] == document["order"]
    heading = "業務ごとのレコード" if lang.startswith("ja") else "Records by area"
    assert heading in dom.stdout.decode("utf-8")

    png = tmp_path / "plan.png"
    shot = _browser(chromium, tmp_path / "profile-shot", f"--screenshot={png}",
                    "--window-size=1280,1600", "--hide-scrollbars",
                    result.report.resolve().as_uri())
    assert shot.returncode == 0, shot.stderr.decode(errors="replace")[-2000:]
    image_module = pytest.importorskip("PIL.Image")
    with image_module.open(png) as opened:
        image = opened.convert("RGB")
    pixels = image.load()
    green = tuple(int(PLAN_ACCEPTED[i:i + 2], 16) for i in (1, 3, 5))

    def is_green(x: int, y: int) -> bool:
        return all(abs(a - b) <= 6 for a, b in zip(pixels[x, y], green, strict=True))

    from collections import Counter

    rows = [any(is_green(x, y) for x in range(image.size[0])) for y in range(image.size[1])]

    def left(band: tuple[int, int]) -> int:
        y = (band[0] + band[1]) // 2
        return next(x for x in range(image.size[0]) if is_green(x, y))

    # the bars: 20 px high, all starting at the chart's left edge (the banner's green border
    # and bold status text are other heights or start elsewhere)
    tall = [band for band in _bands(rows) if abs(band[1] - band[0] - 20) <= 1]
    edge = Counter(left(band) for band in tall).most_common(1)[0][0]
    bands = [band for band in tall if left(band) == edge]
    assert len(bands) == len(bars), bands  # one painted bar per area
    read = {f["layout"]: f["data_records_read"] for f in document["files"]}
    for (top, bottom), bar in zip(bands, bars, strict=True):
        y = (top + bottom) // 2
        xs = [x for x in range(image.size[0]) if is_green(x, y)]
        expected = CHART_BAR_AREA * int(bar["attrs"]["data-accepted"]) / max(read.values())
        assert abs((xs[-1] - xs[0] + 1) - expected) <= 3, (bar["attrs"], xs[0], xs[-1])


# ---------------------------------------------------------------------------- checks and times

PROBE = """<script>
document.body.dataset.pageWidth = document.documentElement.scrollWidth;
document.body.dataset.checksRight = Math.ceil(
    document.getElementById("checks-table").getBoundingClientRect().right);
</script></body>"""


@pytest.mark.parametrize("lang", ["en_US.UTF-8", "ja_JP.UTF-8"])
def test_checks_fit_a_1280_px_window_with_formatted_values(reported, tmp_path, monkeypatch,
                                                           lang):
    """Chromium at 1280×800: the page (the Checks table with its column totals) does not
    scroll sideways, and no figure is a Python repr."""
    out, document, _, _ = reported
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", lang)
    text = write_report(document, tmp_path, rejects_csv=out / "rejects.csv") \
        .read_text(encoding="utf-8")
    page = Elements(text)
    rows = page.with_class("invariant")
    assert any(r["attrs"]["data-name"].startswith("db_load_totals:") for r in rows)
    for row in rows:
        assert "{" not in row["text"] and "'" not in row["text"] and "non_null" not in \
            row["text"], row["text"]
    if lang.startswith("ja"):  # the database checks are described in Japanese too
        described = [r["text"] for r in rows if r["attrs"]["data-name"].startswith("db_")]
        assert all("データベース" in d or "Parquet" in d for d in described), described
    probe = tmp_path / "probe.html"  # a copy of the page that measures itself
    probe.write_text(text.replace("</body>", PROBE), encoding="utf-8")
    chromium = _chromium()
    dom = _browser(chromium, tmp_path / "profile", "--window-size=1280,800", "--dump-dom",
                   probe.resolve().as_uri())
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    body = next(e for e in Elements(dom.stdout.decode("utf-8")).all if e["tag"] == "body")
    assert int(body["attrs"]["data-page-width"]) <= 1280, body["attrs"]
    assert int(body["attrs"]["data-checks-right"]) <= 1280, body["attrs"]


def test_times_are_local_with_their_offset(monkeypatch):
    import time

    from migrate.report.html import local_time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert local_time("2026-12-03T19:55:21+00:00") == "2026-12-04 04:55:21 JST (UTC+09:00)"
        assert local_time("not a time") == "not a time"
    finally:
        monkeypatch.setenv("TZ", "UTC")
        time.tzset()
    assert local_time("2026-12-03T19:55:21+00:00") == "2026-12-03 19:55:21 UTC+00:00"


def test_report_shows_the_start_in_local_time(reported, tmp_path, monkeypatch):
    import time
    from datetime import datetime, timedelta

    out, document, _, _ = reported
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        text = write_report(document, tmp_path, rejects_csv=out / "rejects.csv") \
            .read_text(encoding="utf-8")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    started = datetime.fromisoformat(document["started"]) + timedelta(hours=9)
    assert f"<b>{started:%Y-%m-%d %H:%M:%S} JST (UTC+09:00)</b>" in text


def test_plan_report_explains_records_against_rows(tmp_path):
    from migrate.report.planreport import write_plan_report

    files = [{"name": "zeimu", "layout": "zeimu/v1", "status": "reconciled", "reconciled": True,
              "data_records_read": 912, "accepted": 912, "rejected": 0, "rows": 379,
              "input": "zeimu.dat", "report": "zeimu/report.html",
              "records_by_type": {"header": 1, "data": 379, "income": 533, "trailer": 1},
              "failed_invariants": [], "warnings_by_reason": {}},
             {"name": "juki", "layout": "juki/v1", "status": "reconciled", "reconciled": True,
              "data_records_read": 500, "accepted": 500, "rejected": 0, "rows": 500,
              "input": "juki.dat", "report": "juki/report.html",
              "records_by_type": {"header": 1, "data": 500, "trailer": 1},
              "failed_invariants": [], "warnings_by_reason": {}}]
    document = {"tool": {"name": "migrate", "version": "0"}, "migration": "test",
                "started": "2026-12-03T19:55:21+00:00", "seconds": 1.0,
                "status": "reconciled", "exit_code": 0, "order": ["zeimu/v1", "juki/v1"],
                "files": files, "cross_file": []}
    text = write_plan_report(document, tmp_path, "en").read_text(encoding="utf-8")
    notes = Elements(text).with_class("rows-note")
    assert [n["text"] for n in notes] == [
        "zeimu/v1: 912 records accepted make 379 rows: its income records are columns of the "
        "row of the person they belong to."]


def test_the_plan_report_names_an_area_it_has_no_short_name_for_by_its_title(monkeypatch):
    """A town's own layout is named by the title its YAML gives it; an unknown one by its id."""
    from migrate.report import planreport

    monkeypatch.setitem(planreport.AREA_NAMES, "en", {"juki/v1": "Resident records"})
    document = {"files": [{"layout": "juki/v1"}, {"layout": "zeimu_shotoku/v1"},
                          {"layout": "nai/v1"}]}
    assert planreport._area_names(document, "en") == {
        "juki/v1": "Resident records",
        "zeimu_shotoku/v1": "Individual resident tax (income records)", "nai/v1": "nai/v1"}
