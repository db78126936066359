"""The plain-polars validator (migrate.validate.rows) finds exactly the problems of the pandera
schema built from the same layout (migrate.validate.panderaschema): over every bundled mapping's
generated file with planted defects, and the same rows with values broken column by column."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from migrate.layouts.bundled import bundled_dir
from migrate.layouts.plan import load_plan
from migrate.read import open_reader
from migrate.synth.sets import generate_set
from migrate.transform.mapper import ChunkMapper, decode_header, field_offsets
from migrate.validate.panderaschema import PanderaValidator
from migrate.validate.rows import Validator

MAPPINGS = sorted(f"vendor_a/{p.stem}" for p in (bundled_dir("mappings") / "vendor_a")
                  .glob("*.yaml"))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, tuple]:
    """mapping id → (mapping, generated file with planted defects): the vendor A set."""
    folder = tmp_path_factory.mktemp("set")
    generate_set(folder, 500, seed=3, defects=5)
    plan = load_plan(folder / "migration.yaml")
    return {item.mapping.id: (item.mapping, item.input) for item in plan.inputs}


def _mapped(mapping, path) -> pl.DataFrame:
    reader = open_reader(path, mapping, 1 << 20)
    record = reader.header_record()
    header = decode_header(mapping, record) if record is not None \
        and not mapping.source.delimited else {}
    mapper = ChunkMapper(mapping, header)
    return pl.concat([mapper.map(chunk).rows for chunk in reader.chunks()])


def _broken(spec, value, i: int):
    """A value of the column's type that breaks one of its rules (or null)."""
    if i % 5 == 0:
        return None
    if spec.dtype in ("str", "digits", "code", "partial_date"):
        return ["Ｘ" * 200, "12a", "ZZZ", "1980-5", "", "ｱｲｳ"][i % 6]
    if spec.dtype == "int":
        return [-999_999, 10**12, 0, 2][i % 4]
    if spec.dtype == "flag":
        return [2, -1, 1][i % 3]
    if spec.dtype == "decimal":
        return Decimal(-(10 ** min(spec.precision or 18, 17) - 1)).scaleb(-spec.scale)
    if spec.dtype == "date":
        return [date(1800, 1, 1), date(2999, 12, 31)][i % 2]
    return value


def _break_columns(schema, rows: pl.DataFrame) -> pl.DataFrame:
    """Every third row gets one column broken, a different column each time."""
    columns = schema.columns
    broken = {c.name: rows[c.name].to_list() for c in columns}
    for i in range(0, rows.height, 3):
        spec = columns[(i // 3) % len(columns)]
        broken[spec.name][i] = _broken(spec, broken[spec.name][i], i // 3)
    return rows.with_columns(pl.Series(c.name, broken[c.name], dtype=rows.schema[c.name])
                             for c in columns)


@pytest.mark.parametrize("mapping_id", MAPPINGS)
def test_the_same_problems_as_the_pandera_schema(inputs, mapping_id):
    mapping, path = inputs[mapping_id]
    rows = _mapped(mapping, path)
    fields = field_offsets(mapping)
    ours, reference = Validator(mapping.target, fields), PanderaValidator(mapping.target, fields)
    for frame in (rows, _break_columns(mapping.target, rows)):
        errors, warnings = ours.validate(frame)
        assert errors.rows() == reference.validate(frame)[0].rows()
        assert warnings.rows() == reference.validate(frame)[1].rows()
    assert errors.height > rows.height // 10  # the broken rows were found too
    # several kinds of problem (zeimu_shotoku/v1 has six columns: fewer kinds to break)
    assert errors["reason"].n_unique() >= min(5, len(mapping.target.columns) - 2)


def test_the_worker_path_does_not_import_pandera_or_pandas():
    import subprocess
    import sys

    code = ("import sys; import migrate.run.chunkwork, migrate.validate.rows; "
            "print(sorted(m for m in ('pandas', 'pandera') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
