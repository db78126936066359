"""`migrate docs`: the data dictionary of a layout or a mapping, one self-contained page; the
byte ruler covers every byte of a record once; checked in headless Chromium (ja and en)."""

from __future__ import annotations

import stat

import pytest

from migrate.cli import main
from migrate.layouts import load_mapping, load_schema
from migrate.report.docs import render_docs
from tests.report.test_html import Elements, _browser, _chromium

RULER_BLUE = (0x18, 0x64, 0xAB)



@pytest.mark.parametrize("lang", ["en_US.UTF-8", "ja_JP.UTF-8"], indirect=True)
def test_a_layout_lists_every_column_with_names_codes_checks_and_references(lang):
    schema = load_schema("kokuho_setai/v1")
    page = Elements(render_docs(schema))
    rows = page.with_class("column")
    assert [r["attrs"]["data-name"] for r in rows] == schema.column_names
    for row, spec in zip(rows, schema.columns, strict=True):
        assert spec.ja in row["text"] and spec.en in row["text"], spec.name
        if spec.references is not None:
            assert f"{spec.references.layout}.{spec.references.column}" in row["text"]
    juki = Elements(render_docs(load_schema("juki/v1")))
    sex = next(r for r in juki.with_class("column") if r["attrs"]["data-name"] == "sex")
    assert sex["attrs"]["data-codes"] == "4"
    assert ("女" if lang == "ja" else "female") in sex["text"]  # the code table's meaning
    order = next(r for r in juki.with_class("column")
                 if r["attrs"]["data-name"] == "setai_order")
    assert ("最小1" in order["text"] and "最大999" in order["text"]) if lang == "ja" else \
        ("min 1" in order["text"] and "max 999" in order["text"])
    atena = next(r for r in juki.with_class("column") if r["attrs"]["data-name"] == "atena_no")
    assert ("主キー" if lang == "ja" else "primary key") in atena["text"]


def test_a_mapping_rules_every_byte_once_and_names_the_column_each_field_feeds(monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LANGUAGE", raising=False)
    mapping = load_mapping("vendor_a/juki")
    page = Elements(render_docs(mapping))
    first = page.with_class("layout")[0]  # the data record
    rows = [e for e in page.all if e in page.with_class("field-row") + page.with_class("filler")]
    data_rows = rows[:next(i for i, r in enumerate(rows[1:], 1)
                           if r["attrs"]["data-offset"] == "0")]
    spans = [(int(r["attrs"]["data-offset"]), int(r["attrs"]["data-length"]))
             for r in data_rows]
    assert spans[0][0] == 0
    assert all(a + n == b for (a, n), (b, _) in zip(spans, spans[1:], strict=False))
    assert sum(n for _, n in spans) == mapping.source.record_length == 430
    fed = {r["attrs"]["data-field"]: r["attrs"]["data-columns"].split()
           for r in data_rows if "data-field" in r["attrs"]}
    assert fed["birth"] == ["birth_date"] and fed["kokuseki"] == ["nationality"]
    assert fed["atena_no"] == ["atena_no"]
    assert set(fed) == set(mapping.fields)
    assert first["tag"] == "table"
    zeimu = Elements(render_docs(load_mapping("vendor_a/zeimu")))
    child = [r for r in zeimu.with_class("field-row") if r["attrs"]["data-field"] == "amount"]
    assert child and child[0]["attrs"]["data-columns"]  # a child record's field feeds columns


def test_docs_command_writes_a_private_page_and_refuses_what_it_cannot(runner, tmp_path):
    out = tmp_path / "juki.html"
    result = runner.invoke(main, ["docs", "vendor_a/juki", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    text = out.read_text(encoding="utf-8")
    assert "<script" not in text and "http://" not in text.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    result = runner.invoke(main, ["docs", "juki/v1", "--out", str(tmp_path / "j.html")])
    assert result.exit_code == 0 and 'class="ruler"' not in (tmp_path / "j.html").read_text()
    schema_file = tmp_path / "mine.yaml"
    schema_file.write_text(load_schema("juki/v1").path.read_text(encoding="utf-8"),
                           encoding="utf-8")
    (tmp_path / "codes").symlink_to(load_schema("juki/v1").path.parent / "codes")
    result = runner.invoke(main, ["docs", str(schema_file), "-o", str(tmp_path / "m.html")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["docs", "vendor_z/nothing"])
    assert result.exit_code == 2 and "vendor_z/nothing" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(main, ["docs", "juki/v1", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "Traceback" not in result.output


PROBE = """<script>
document.body.dataset.pageWidth = document.documentElement.scrollWidth;
const ruler = document.querySelector("svg.ruler").getBoundingClientRect();
document.body.dataset.rulerTop = Math.floor(ruler.top);
document.body.dataset.rulerBottom = Math.ceil(ruler.bottom);
</script></body>"""


@pytest.mark.parametrize("lang", ["en_US.UTF-8", "ja_JP.UTF-8"], indirect=True)
def test_screenshot_draws_the_ruler_and_fits_the_window(lang, tmp_path):
    """Chromium at 1280 px: the page does not scroll sideways, and the ruler of the data
    record is painted: one blue band whose painted width is the fields' share of the record."""
    chromium = _chromium()
    mapping = load_mapping("vendor_a/juki")
    page = tmp_path / "docs.html"
    page.write_text(render_docs(mapping).replace("</body>", PROBE), encoding="utf-8")
    dom = _browser(chromium, tmp_path / "profile-dom", "--window-size=1280,900", "--dump-dom",
                   page.resolve().as_uri())
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    body = next(e for e in Elements(dom.stdout.decode("utf-8")).all if e["tag"] == "body")
    assert int(body["attrs"]["data-page-width"]) <= 1280, body["attrs"]
    top, bottom = int(body["attrs"]["data-ruler-top"]), int(body["attrs"]["data-ruler-bottom"])
    text = dom.stdout.decode("utf-8")
    assert ("バイト配置" in text) == (lang == "ja") and ("Byte layout" in text) == (lang == "en")

    png = tmp_path / "docs.png"
    shot = _browser(chromium, tmp_path / "profile-shot", f"--screenshot={png}",
                    "--window-size=1280,900", "--hide-scrollbars", page.resolve().as_uri())
    assert shot.returncode == 0, shot.stderr.decode(errors="replace")[-2000:]
    image_module = pytest.importorskip("PIL.Image")
    with image_module.open(png) as opened:
        image = opened.convert("RGB")
    pixels = image.load()

    def blue(x: int, y: int) -> bool:
        return all(abs(a - b) <= 8 for a, b in zip(pixels[x, y], RULER_BLUE, strict=True))

    y = top + 4 + 11  # the middle of the field bars (y 4..26 in the SVG)
    assert top < y < bottom < image.size[1]
    painted = [x for x in range(image.size[0]) if blue(x, y)]
    assert painted, "the ruler is not painted"
    fields = sum(f.length for f in mapping.fields.values())
    record = mapping.source.record_length
    # the fields are blue, the bytes no field declares (the record-type code) grey; the ruler
    # is 1000 px wide and the grey bytes lie outside the blue span
    # (neighbouring bars meet at fractional pixels, painted in a blend that is not the ruler's
    # blue: about one pixel per bar is discounted)
    bars = 1 + sum(1 for a, b in zip(painted, painted[1:], strict=False) if b != a + 1)
    share = (len(painted) + bars) / (painted[-1] - painted[0] + 1
                                     + (record - fields) * 1000 / record)
    assert abs(share - fields / record) < 0.03, (len(painted), bars, fields)
