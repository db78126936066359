"""`migrate check --sample FILE -n N`: the mapping run over the first N records of a real
file — read, decoded, mapped and validated row by row as `migrate run` does — and the rejects
counted by reason and field. Nothing is written, and no value is shown (only reasons and counts),
so it is safe on production data. Checks that need the whole file (duplicate keys across
chunks, group checks, references between files, the trailer's totals) are left to the run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from migrate.layouts import Mapping
from migrate.read import open_reader
from migrate.read.fixed import DATA
from migrate.transform.mapper import ChunkMapper, decode_header, field_offsets


@dataclass
class SampleResult:
    """What the first records of a file gave: rows, rejected records, and why."""

    records: int = 0  # data records read
    rejected: int = 0  # records with at least one error
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)  # (reason, field) → rows
    warnings: Counter[tuple[str, str]] = field(default_factory=Counter)


def run_sample(mapping: Mapping, path: Path, limit: int) -> SampleResult:
    """Map and validate the first `limit` records of `path` (header and trailer aside)."""
    from migrate.validate.rows import Validator  # pandera: import only when sampling

    reader = open_reader(path, mapping, max(1 << 16, limit * mapping.source.stride))
    record = reader.header_record()
    header = decode_header(mapping, record) if record is not None else {}
    mapper = ChunkMapper(mapping, header)
    validator = Validator(mapping.target, field_offsets(mapping))
    result = SampleResult()
    for chunk in reader.chunks():
        mapped = mapper.map(chunk)
        numbers = chunk.record_numbers[chunk.kinds == DATA]
        keep = numbers[: limit - result.records]
        if not len(keep):
            break
        result.records += len(keep)
        errors, warnings = validator.validate(mapped.rows)
        errors = pl.concat([mapped.errors.select("record", "field", "reason"),
                            errors.select("record", "field", "reason")])
        warnings = pl.concat([mapped.warnings.select("record", "field", "reason"),
                              warnings.select("record", "field", "reason")])
        wanted = pl.col("record").is_in(pl.Series(keep.tolist()).implode())
        errors, warnings = errors.filter(wanted), warnings.filter(wanted)
        result.rejected += errors["record"].n_unique()
        for counter, frame in ((result.errors, errors), (result.warnings, warnings)):
            for reason, name, n in frame.group_by("reason", "field").len().iter_rows():
                counter[(reason, name or "")] += n
        if result.records >= limit:
            break
    return result
