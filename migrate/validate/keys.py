"""Primary-key uniqueness across the whole run, in memory bounded by ``memory_keys``, not by input.

Every key is turned into one int64 *code* (see ``encode_keys``). Codes seen so far live in a
small log-structured merge tree:

* an in-memory buffer of sorted pieces (merged binary-counter style, so there are O(log) of them)
  holding at most ``memory_keys`` codes; when full it is flushed as one immutable sorted *run*:
  two flat int64 files (codes, records) under the spill directory;
* runs are tiered: when ``_TIER`` runs of one level exist they are merged, streaming, into one
  run of the next level, so the number of runs stays logarithmic in the input.

A lookup is a vectorized ``np.searchsorted`` per piece and per run. Runs are read through one
fixed window buffer (``_WINDOW`` codes) rather than memory-mapped, because mapped pages a search
touches count toward the process's resident set and would make peak RSS grow with the input; a
small in-memory fence index (the first code of every window) skips windows no query falls in.
Each chunk therefore costs a sequential read of the spilled codes it may hit (from the page
cache, 8 bytes per key), and peak memory is ~``memory_keys`` x 16 bytes x 3 plus a few windows.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import numpy as np
import polars as pl

_WINDOW = 1 << 16  # codes per read window / merge block: 512 KiB, stays in L2 cache
_TIER = 4  # runs of one level merged together
_EXACT_DIGITS = 17  # 10**17 * 20 + 17 < 2**63
_NULL_CODE = np.int64(np.iinfo(np.int64).max)  # above every exact code (< 2 * 10**18)
_SIGN = np.uint64(1 << 63)
_SEED = 0x5EED
_POW10 = np.array([10**i for i in range(1, _EXACT_DIGITS + 1)], dtype=np.int64)
_MIX_A = np.uint64(0xBF58476D1CE4E5B9)
_MIX_B = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _digit_codes(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """value * 20 + length: injective over digit strings of 1..17 chars (leading zeros kept)."""
    return values.astype(np.int64) * 20 + lengths.astype(np.int64)


def _hash_codes(column: pl.Series) -> np.ndarray:
    """64-bit polars hash with the sign bit forced on: hashes never meet exact (>= 0) codes."""
    return (column.hash(seed=_SEED).to_numpy() | _SIGN).view(np.int64)


def _string_codes(column: pl.Series) -> np.ndarray:
    """Per value: exact for a 1..17-digit string, else a negative hash; null is its own code."""
    exact = column.str.contains(rf"^[0-9]{{1,{_EXACT_DIGITS}}}$").fill_null(False)
    if exact.all():
        return _digit_codes(column.cast(pl.Int64).to_numpy(),
                            column.str.len_bytes().to_numpy())
    exact_mask = exact.to_numpy()
    nulls = column.is_null().to_numpy()
    codes = np.empty(len(column), dtype=np.int64)
    if exact_mask.any():
        digits = column.filter(exact)
        codes[exact_mask] = _digit_codes(digits.cast(pl.Int64).to_numpy(),
                                         digits.str.len_bytes().to_numpy())
    hashed = ~exact_mask & ~nulls
    if hashed.any():
        codes[hashed] = _hash_codes(column.filter(pl.Series(hashed)))
    codes[nulls] = _NULL_CODE
    return codes


def _column_codes(column: pl.Series) -> np.ndarray:
    """The code of each value, a function of the value's text only (not the name or chunk).

    An integer 0 <= v < 10**17 gets the code of its decimal string, so 12 and "12" meet (a
    reference column decoded as a number finds a text key) while "0012" stays distinct; any
    other integer, and any other type, is coded through its string form (``cast(pl.Utf8)``).
    """
    if column.dtype.is_integer():
        valid = column.drop_nulls()
        if valid.len() == 0 or (valid.min() >= 0 and valid.max() < 10**_EXACT_DIGITS):
            values = column.fill_null(0).cast(pl.Int64).to_numpy()
            codes = _digit_codes(values, 1 + np.searchsorted(_POW10, values, side="right"))
            if column.null_count():
                codes[column.is_null().to_numpy()] = _NULL_CODE
            return codes
    if column.dtype != pl.Utf8:
        try:
            column = column.cast(pl.Utf8)
        except pl.exceptions.PolarsError:  # nested/binary: a dtype-specific hash
            codes = _hash_codes(column)
            codes[column.is_null().to_numpy()] = _NULL_CODE
            return codes
    return _string_codes(column)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer (wrapping uint64 arithmetic): avalanches every input bit."""
    h = (h ^ (h >> np.uint64(30))) * _MIX_A
    h = (h ^ (h >> np.uint64(27))) * _MIX_B
    return h ^ (h >> np.uint64(31))


def encode_keys(frame: pl.DataFrame) -> np.ndarray:
    """One int64 code per row of ``frame``'s columns, by position; names are ignored.

    One column: exact and injective for 1..17-digit strings (``value * 20 + length``, in
    [0, 2 * 10**18)) and for integers in [0, 10**17) (coded as their decimal string); null is
    INT64_MAX; everything else is a 64-bit hash with the sign bit set, so hashes only collide
    with hashes, with probability about n_hashed**2 / 2**64 for the run (5e-6 at 10**7 keys).
    The choice is made per value, so a chunk of digits and a chunk needing hashes agree.
    Several columns: the per-column codes folded through splitmix64, a 64-bit hash of the
    tuple: any collision in a run of n keys has probability about n**2 / 2**65 (3e-6 at 10**7).
    """
    columns = frame.get_columns()
    if len(columns) == 1:
        return _column_codes(columns[0])
    h = np.full(frame.height, _SEED, dtype=np.uint64)
    for column in columns:
        h = _mix(h * _GOLDEN + _column_codes(column).view(np.uint64))
    return h.view(np.int64)


@dataclass
class _Run:
    """An immutable sorted run on disk; ``fences`` is the first code of every window."""

    keys_path: Path
    records_path: Path
    size: int
    level: int
    fences: np.ndarray
    last: int


def _read_into(file: BinaryIO, buffer: np.ndarray, start: int) -> np.ndarray:
    """Fill ``buffer`` with int64 values from element ``start``; reuses memory, maps nothing."""
    file.seek(start * 8)
    view = memoryview(buffer).cast("B")
    done = 0
    while done < len(view):
        got = file.readinto(view[done:])
        if not got:
            raise EOFError(f"spill file {file.name} is shorter than expected")
        done += got
    return buffer


def _merge_two(a: tuple[np.ndarray, np.ndarray],
               b: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Merge two sorted (codes, records) pieces with disjoint codes in O(n), no argsort."""
    at = np.searchsorted(a[0], b[0]) + np.arange(len(b[0]))
    from_b = np.zeros(len(a[0]) + len(b[0]), dtype=bool)
    from_b[at] = True
    keys = np.empty(len(from_b), dtype=np.int64)
    records = np.empty(len(from_b), dtype=np.int64)
    keys[at], records[at] = b
    keys[~from_b], records[~from_b] = a
    return keys, records


def _merge_sorted(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Merge sorted pieces with disjoint codes, smallest first so big ones are copied least."""
    parts = sorted(parts, key=lambda part: len(part[0]))
    merged = parts[0]
    for part in parts[1:]:
        merged = _merge_two(merged, part)
    return merged


def _search_windows(fences: np.ndarray, last: int, size: int, queries: np.ndarray,
                    found: np.ndarray, hit: np.ndarray,
                    read_keys: Callable[[int, int], np.ndarray],
                    read_records: Callable[[int, int], np.ndarray]) -> None:
    """Search sorted ``queries`` in one sorted piece or run, ``_WINDOW`` codes at a time.

    Only windows some query falls in are read, and each search stays inside one cache-sized
    window, which is much faster than a binary search over the whole array.
    """
    end = int(np.searchsorted(queries, last, side="right"))
    bounds = np.append(np.searchsorted(queries, fences), end)
    for window in np.flatnonzero(bounds[1:] > bounds[:-1]).tolist():
        lo, hi = int(bounds[window]), int(bounds[window + 1])
        start = window * _WINDOW
        n = min(_WINDOW, size - start)
        keys = read_keys(start, n)
        wanted = queries[lo:hi]
        at = np.minimum(np.searchsorted(keys, wanted), n - 1)
        match = keys[at] == wanted
        if match.any():
            found[lo:hi][match] = read_records(start, n)[at[match]]
            hit[lo:hi] |= match


class KeyTracker:
    """Finds records whose key was already accepted earlier in the run (or earlier in the chunk).

    Memory is bounded by ``memory_keys`` (16 bytes each, plus merge temporaries); older keys
    spill to sorted run files under ``spill_dir`` (a fresh temporary directory inside it, or
    one under the system temp dir), removed by ``close()``, on context exit or when collected.
    Record numbers are opaque int64 values, but ``lookup`` uses -1 for "absent".
    """

    def __init__(self, key_columns: tuple[str, ...], spill_dir: Path | None = None,
                 memory_keys: int = 1_000_000):
        if memory_keys < 1:
            raise ValueError("memory_keys must be at least 1")
        self.key_columns = tuple(key_columns)
        self.spill_dir = spill_dir
        self.memory_keys = memory_keys
        self._pieces: list[tuple[np.ndarray, np.ndarray]] = []
        self._in_memory = 0
        self._runs: list[_Run] = []
        self._count = 0
        self._serial = 0
        self._directory: Path | None = None
        self._cleanup: weakref.finalize | None = None
        self._key_window = np.empty(0, dtype=np.int64)
        self._record_window = np.empty(0, dtype=np.int64)

    # ------------------------------------------------------------------ public

    def __len__(self) -> int:
        return self._count

    def __enter__(self) -> KeyTracker:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Forget every key and delete the spill files; the tracker starts empty if reused."""
        self._pieces, self._runs = [], []
        self._in_memory = self._count = 0
        self._key_window = self._record_window = np.empty(0, dtype=np.int64)
        if self._cleanup is not None:
            self._cleanup()
        self._cleanup = self._directory = None

    def duplicates(self, rows: pl.DataFrame, records: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row positions (ascending) of duplicates in `rows` and the earlier record each repeats.

        The first occurrence in input order wins: a key seen in an earlier chunk points at that
        record, a key repeated inside the chunk at its first row's record. Non-duplicates are
        added to the seen set.
        """
        if not self.key_columns or rows.height == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        records = np.asarray(records, dtype=np.int64)
        codes = encode_keys(rows.select(self.key_columns))
        order = np.argsort(codes, kind="stable")
        sorted_codes = codes[order]
        first = np.ones(len(codes), dtype=bool)
        first[1:] = sorted_codes[1:] != sorted_codes[:-1]
        group_start = np.maximum.accumulate(np.where(first, np.arange(len(codes)), 0))
        earlier = records[order[group_start]]
        found, hit = self._find(sorted_codes[first])
        group = np.cumsum(first) - 1
        seen = hit[group]
        earlier = np.where(seen, found[group], earlier)
        duplicate = seen | ~first
        new = ~duplicate
        if new.any():
            self._add(sorted_codes[new], records[order[new]])
        dup_rows = order[duplicate]
        by_row = np.argsort(dup_rows, kind="stable")
        return dup_rows[by_row].astype(np.int64), earlier[duplicate][by_row]

    def lookup(self, values: pl.DataFrame) -> np.ndarray:
        """Record of the first occurrence of each row's key, or -1; for cross-file references.

        ``values`` holds the key columns in key order under any names (codes depend on values
        only). Nothing is added.
        """
        if values.width != len(self.key_columns):
            raise ValueError(f"lookup needs {len(self.key_columns)} key column(s), "
                             f"got {values.width}")
        if values.height == 0 or not self.key_columns:
            return np.full(values.height, -1, dtype=np.int64)
        unique, inverse = np.unique(encode_keys(values), return_inverse=True)
        found, hit = self._find(unique)
        return np.where(hit, found, -1)[inverse.reshape(-1)]

    # ------------------------------------------------------------------ search

    def _find(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Records and hit mask for sorted unique codes; each code lives in at most one place."""
        found = np.full(len(queries), -1, dtype=np.int64)
        hit = np.zeros(len(queries), dtype=bool)
        if not len(queries) or not self._count:
            return found, hit
        for keys, records in self._pieces:
            _search_windows(keys[::_WINDOW], int(keys[-1]), len(keys), queries, found, hit,
                            lambda start, n, keys=keys: keys[start:start + n],
                            lambda start, n, records=records: records[start:start + n])
        for run in self._runs:
            if len(self._key_window) < _WINDOW:
                self._key_window = np.empty(_WINDOW, dtype=np.int64)
                self._record_window = np.empty(_WINDOW, dtype=np.int64)
            with open(run.keys_path, "rb", buffering=0) as key_file, \
                    open(run.records_path, "rb", buffering=0) as record_file:
                _search_windows(
                    run.fences, run.last, run.size, queries, found, hit,
                    lambda start, n, f=key_file: _read_into(f, self._key_window[:n], start),
                    lambda start, n, f=record_file: _read_into(f, self._record_window[:n],
                                                               start))
        return found, hit

    # ------------------------------------------------------------------ growth

    def _add(self, codes: np.ndarray, records: np.ndarray) -> None:
        """Append sorted new codes; merge pieces binary-counter style, flush when full."""
        self._count += len(codes)
        self._in_memory += len(codes)
        self._pieces.append((codes, records))
        while len(self._pieces) > 1 and len(self._pieces[-2][0]) <= 2 * len(self._pieces[-1][0]):
            last = self._pieces.pop()
            self._pieces[-1] = _merge_sorted([self._pieces[-1], last])
        if self._in_memory >= self.memory_keys:
            keys, records = _merge_sorted(self._pieces)
            self._pieces, self._in_memory = [], 0
            self._runs.append(self._write_run([(keys, records)], level=0))
            self._compact()

    def _compact(self) -> None:
        """Size tiering: ``_TIER`` runs of a level become one run of the next level."""
        while True:
            levels: dict[int, list[_Run]] = {}
            for run in self._runs:
                levels.setdefault(run.level, []).append(run)
            full = next((group for group in levels.values() if len(group) >= _TIER), None)
            if full is None:
                return
            merged = self._merge_runs(full[:_TIER])
            for run in full[:_TIER]:
                self._runs.remove(run)
                run.keys_path.unlink(missing_ok=True)
                run.records_path.unlink(missing_ok=True)
            self._runs.append(merged)

    def _spill_directory(self) -> Path:
        if self._directory is None:
            if self.spill_dir is not None:
                Path(self.spill_dir).mkdir(parents=True, exist_ok=True)
            self._directory = Path(tempfile.mkdtemp(prefix="migrate-keys-", dir=self.spill_dir))
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._directory, True)
        return self._directory

    def _write_run(self, blocks: Iterable[tuple[np.ndarray, np.ndarray]], level: int) -> _Run:
        """Write sorted (codes, records) blocks, in order, as one run; fences come along."""
        directory = self._spill_directory()
        self._serial += 1
        keys_path = directory / f"run{self._serial:06d}.keys"
        records_path = directory / f"run{self._serial:06d}.records"
        fences: list[np.ndarray] = []
        size, last = 0, 0
        with open(keys_path, "wb") as key_file, open(records_path, "wb") as record_file:
            for keys, records in blocks:
                if not len(keys):
                    continue
                first_fence = -size % _WINDOW
                fences.append(keys[first_fence::_WINDOW].copy())
                keys.tofile(key_file)
                records.tofile(record_file)
                size += len(keys)
                last = int(keys[-1])
        return _Run(keys_path, records_path, size, level,
                    np.concatenate(fences) if fences else np.empty(0, dtype=np.int64), last)

    def _merge_runs(self, runs: list[_Run]) -> _Run:
        """Streaming k-way merge in blocks of ``_WINDOW``: memory stays k windows."""
        level = max(run.level for run in runs) + 1
        with ExitStack() as stack:
            files = [(stack.enter_context(open(run.keys_path, "rb")),
                      stack.enter_context(open(run.records_path, "rb"))) for run in runs]
            return self._write_run(_merged_blocks(runs, files), level)


def _merged_blocks(runs: list[_Run], files: list[tuple[BinaryIO, BinaryIO]],
                   ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield sorted (codes, records) blocks of the union of ``runs`` (codes disjoint)."""
    position = [0] * len(runs)
    buffered: list[tuple[np.ndarray, np.ndarray]] = [
        (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)) for _ in runs]
    while True:
        for i, run in enumerate(runs):
            if not len(buffered[i][0]) and position[i] < run.size:
                n = min(_WINDOW, run.size - position[i])
                key_file, record_file = files[i]
                key_file.seek(position[i] * 8)
                record_file.seek(position[i] * 8)
                buffered[i] = (np.fromfile(key_file, np.int64, n),
                               np.fromfile(record_file, np.int64, n))
                position[i] += n
        live = [i for i in range(len(runs)) if len(buffered[i][0])]
        if not live:
            return
        pending = [int(buffered[i][0][-1]) for i in live if position[i] < runs[i].size]
        cutoff = min(pending) if pending else None
        parts = []
        for i in live:
            keys, records = buffered[i]
            take = len(keys) if cutoff is None else int(np.searchsorted(keys, cutoff, "right"))
            if take:
                parts.append((keys[:take], records[:take]))
                buffered[i] = (keys[take:], records[take:])
        yield _merge_sorted(parts)
