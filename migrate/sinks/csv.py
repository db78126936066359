"""Standard-layout CSV: UTF-8, header, schema column order, ISO dates, empty = null.

The standard-layout files are for machines and have no byte order mark. Files that people open
in Excel (rejects.csv, warnings.csv) start with one (`bom=True`): without it Excel on Japanese
Windows reads UTF-8 as cp932 and shows mojibake. polars and `csv` with encoding 'utf-8-sig'
read both kinds alike.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import polars as pl

from migrate.sinks.atomic import commit, discard, private_open, temp_path

RECOUNT_BLOCK = 8 * 1024 * 1024
BOM = "\ufeff".encode()


class CsvSink:
    """Streams chunks into one CSV file, renamed into place on commit."""

    def __init__(self, path: Path, columns: list[str], sum_columns: tuple[str, ...] = (), *,
                 bom: bool = False):
        self.name = "csv"
        self.path = path
        self.columns = columns
        # columns whose totals reconciliation asks for: re-read with the row count, in one pass
        self.sum_columns = list(sum_columns)
        self._recounted: tuple[int, dict[str, int]] | None = None
        self.sha256: str | None = None  # of the committed file, taken by the recount's read
        self.temp = temp_path(path)
        self.handle = private_open(self.temp, "wb")
        if bom:  # for Excel: see the module's docstring
            self.handle.write(BOM)
        pl.DataFrame(schema={c: pl.Utf8 for c in columns}).write_csv(self.handle)

    def write(self, frame: pl.DataFrame) -> None:
        frame.select(self.columns).write_csv(self.handle, include_header=False)

    def commit(self) -> None:
        self.handle.close()
        commit(self.temp, self.path)

    def abort(self) -> None:
        self.handle.close()
        discard(self.temp)

    def count(self) -> int:
        return self._committed_counts()[0]

    def column_sum(self, column: str) -> int:
        """Sum of a numeric-text column, re-read from the committed file."""
        if column not in self.sum_columns:
            return self.recount([column])[1][column]
        return self._committed_counts()[1][column]

    def _committed_counts(self) -> tuple[int, dict[str, int]]:
        """Rows and the sums of sum_columns, read once from the committed file."""
        if self._recounted is None:
            digest = hashlib.sha256()
            self._recounted = self.recount(self.sum_columns, digest)
            self.sha256 = digest.hexdigest()
        return self._recounted

    def recount(self, sum_columns: list[str], digest: hashlib._Hash | None = None
                ) -> tuple[int, dict[str, int]]:
        """Rows and column sums re-read from the committed file, block by block (and its bytes
        hashed into `digest`, so run.json does not read the file a second time).

        Memory stays bounded by the block size whatever the file size (a whole-file scan maps
        the file and grows the peak RSS with the output). No value holds a line break: control
        characters are rejected when text is decoded, so each line is one row.
        """
        indices = sorted({self.columns.index(c) for c in sum_columns} or {0})
        rows, sums = 0, dict.fromkeys(sum_columns, 0)

        def parse(body: bytes) -> None:
            nonlocal rows
            frame = pl.read_csv(io.BytesIO(body), has_header=False, infer_schema=False,
                                columns=indices)
            rows += frame.height
            for column in sum_columns:
                values = frame.to_series(indices.index(self.columns.index(column)))
                sums[column] += int(values.cast(pl.Int128).sum() or 0)  # no wrap past 2^63

        with open(self.path, "rb") as handle:
            header = handle.readline()  # the header line (after the BOM, if any)
            if digest is not None:
                digest.update(header)
            rest = b""
            while block := handle.read(RECOUNT_BLOCK):
                if digest is not None:
                    digest.update(block)
                block = rest + block
                cut = block.rfind(b"\n") + 1
                rest = block[cut:]
                if cut:
                    parse(block[:cut])
            if rest.strip():
                parse(rest)
        return rows, sums

    def outputs(self) -> list[Path]:
        return [self.path]
