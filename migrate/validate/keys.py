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
cache, 8 bytes per key), and peak memory is ~``memory_keys`` x 16 bytes x 3 plus a few windows
(24 bytes for keys that carry a text ref, below).

A code that is a hash never decides alone (``migrate.validate.keytext``): each hashed key also
stores a ref to its exact text, a hash hit counts only when the texts are equal, and a key whose
hash is taken by another key lives in a small exact overflow dict (empty unless two keys of the
run share a 64-bit hash; it grows only with real collisions). Keys with exact codes (digit
strings, small integers) carry no text. Spilled keys and texts are personal data: they live in
0600 files in the tracker's 0700 temporary directory, removed by ``close()``.
"""

from __future__ import annotations

import os
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

from migrate.validate.keytext import TextStore, column_text, row_texts

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


def _hash64(column: pl.Series) -> np.ndarray:
    """The 64-bit hash (uint64) of each value of a text column."""
    return column.hash(seed=_SEED).to_numpy()


def _hash_codes(column: pl.Series) -> np.ndarray:
    """64-bit hash with the sign bit forced on: hashes never meet exact (>= 0) codes."""
    return (_hash64(column) | _SIGN).view(np.int64)


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
    return _string_codes(column_text(column))


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
    return _fold([_column_codes(column) for column in columns], frame.height)


def _fold(codes: list[np.ndarray], height: int) -> np.ndarray:
    """The 64-bit hash of a tuple of per-column codes (a composite key's code)."""
    h = np.full(height, _SEED, dtype=np.uint64)
    for column in codes:
        h = _mix(h * _GOLDEN + column.view(np.uint64))
    return h.view(np.int64)


Piece = tuple[np.ndarray, np.ndarray, np.ndarray | None]  # sorted codes, records, text refs


def _refs(piece: Piece) -> np.ndarray:
    """A piece's text refs; -1 (no text: an exact code) when it has none."""
    return piece[2] if piece[2] is not None else np.full(len(piece[0]), -1, dtype=np.int64)


@dataclass
class _Run:
    """An immutable sorted run on disk; ``fences`` is the first code of every window;
    ``refs_path`` is None when no key of the run has a text."""

    keys_path: Path
    records_path: Path
    refs_path: Path | None
    size: int
    level: int
    fences: np.ndarray
    last: int

    def paths(self) -> list[Path]:
        return [p for p in (self.keys_path, self.records_path, self.refs_path) if p is not None]


def _private(path: str, flags: int) -> int:
    """Open for writing as 0600: spilled keys are personal data."""
    return os.open(path, flags, 0o600)


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


def _merge_two(a: Piece, b: Piece) -> Piece:
    """Merge two sorted pieces with disjoint codes in O(n), no argsort."""
    at = np.searchsorted(a[0], b[0]) + np.arange(len(b[0]))
    from_b = np.zeros(len(a[0]) + len(b[0]), dtype=bool)
    from_b[at] = True
    merged = []
    sources = [(a[0], b[0]), (a[1], b[1])]
    if a[2] is not None or b[2] is not None:
        sources.append((_refs(a), _refs(b)))
    for from_a_values, from_b_values in sources:
        values = np.empty(len(from_b), dtype=np.int64)
        values[at] = from_b_values
        values[~from_b] = from_a_values
        merged.append(values)
    return merged[0], merged[1], merged[2] if len(merged) > 2 else None


def _merge_sorted(parts: list[Piece]) -> Piece:
    """Merge sorted pieces with disjoint codes, smallest first so big ones are copied least."""
    parts = sorted(parts, key=lambda part: len(part[0]))
    merged = parts[0]
    for part in parts[1:]:
        merged = _merge_two(merged, part)
    return merged


def _search_windows(fences: np.ndarray, last: int, size: int, queries: np.ndarray,
                    found: np.ndarray, hit: np.ndarray, refs: np.ndarray,
                    read_keys: Callable[[int, int], np.ndarray],
                    read_records: Callable[[int, int], np.ndarray],
                    read_refs: Callable[[int, int], np.ndarray] | None) -> None:
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
            if read_refs is not None:
                refs[lo:hi][match] = read_refs(start, n)[at[match]]
            hit[lo:hi] |= match


class KeyTracker:
    """Finds records whose key was already accepted earlier in the run (or earlier in the chunk).

    Memory is bounded by ``memory_keys`` (16 bytes each, 24 with a text ref, plus merge
    temporaries); older keys spill to sorted run files under ``spill_dir`` (a fresh temporary
    directory inside it, or one under the system temp dir), removed by ``close()``, on context
    exit or when collected. Record numbers are opaque int64 values, but ``lookup`` uses -1 for
    "absent". Answers are exact: a hashed code counts as found only when the key's text matches.
    """

    def __init__(self, key_columns: tuple[str, ...], spill_dir: Path | None = None,
                 memory_keys: int = 1_000_000):
        if memory_keys < 1:
            raise ValueError("memory_keys must be at least 1")
        self.key_columns = tuple(key_columns)
        self.spill_dir = spill_dir
        self.memory_keys = memory_keys
        self._pieces: list[Piece] = []
        self._in_memory = 0
        self._runs: list[_Run] = []
        self._count = 0
        self._serial = 0
        self._directory: Path | None = None
        self._cleanup: weakref.finalize | None = None
        self._key_window = np.empty(0, dtype=np.int64)
        self._record_window = np.empty(0, dtype=np.int64)
        self._ref_window = np.empty(0, dtype=np.int64)
        directory = weakref.WeakMethod(self._spill_directory)  # no cycle: collected at once
        self._texts = TextStore(lambda: directory()())
        # keys whose code another key holds: code -> {text: record}; empty but for collisions
        self._overflow: dict[int, dict[str, int]] = {}
        self._overflow_codes = np.empty(0, dtype=np.int64)

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
        self._key_window = self._record_window = self._ref_window = np.empty(0, dtype=np.int64)
        self._overflow, self._overflow_codes = {}, np.empty(0, dtype=np.int64)
        self._texts.close()
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
        keys = rows.select(self.key_columns)
        codes = encode_keys(keys)
        order = np.argsort(codes, kind="stable")
        sorted_codes = codes[order]
        first = np.ones(len(codes), dtype=bool)
        first[1:] = sorted_codes[1:] != sorted_codes[:-1]
        group_start = np.maximum.accumulate(np.where(first, np.arange(len(codes)), 0))
        group = np.cumsum(first) - 1
        found, hit, refs = self._find(sorted_codes[first])
        texted = self._texted(sorted_codes)
        texts = row_texts(keys)[order] if texted.any() else None
        slow = self._unconfirmed(sorted_codes[first], hit, refs, texted[first], texts,
                                 first, group_start, group)
        slow_rows = slow[group]
        earlier = records[order[group_start]]
        seen = hit[group]
        earlier = np.where(seen, found[group], earlier)
        duplicate = (seen | ~first) & ~slow_rows
        new = ~duplicate & ~slow_rows
        if new.any():
            self._add(sorted_codes[new], records[order[new]],
                      self._store_texts(texted[new], texts, new))
        if slow_rows.any():
            self._settle_slow(np.flatnonzero(slow_rows), order, sorted_codes, records, texts,
                              group, found, hit, refs, duplicate, earlier)
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
        codes = encode_keys(values)
        unique, inverse = np.unique(codes, return_inverse=True)
        inverse = inverse.reshape(-1)
        found, hit, refs = self._find(unique)
        result = np.where(hit, found, -1)[inverse]
        texted = self._texted(unique)[inverse]
        check = texted & hit[inverse]
        spare = texted & np.isin(codes, self._overflow_codes) if self._overflow else None
        if not check.any() and (spare is None or not spare.any()):
            return result
        texts = row_texts(values)
        at = np.flatnonzero(check)
        if len(at):
            row_refs = refs[inverse[at]]
            ref_unique, ref_inverse = np.unique(row_refs, return_inverse=True)
            stored = self._texts.get(ref_unique)[ref_inverse.reshape(-1)]
            same = (stored == texts.gather(at)).to_numpy()
            result[at[~same]] = -1
        if spare is not None:
            for i in np.flatnonzero(spare & (result < 0)).tolist():
                result[i] = self._overflow[int(codes[i])].get(texts[i], -1)
        return result

    # ------------------------------------------------------------------ exactness

    def _texted(self, codes: np.ndarray) -> np.ndarray:
        """Which codes are hashes (a hit must be confirmed on the text): all of a composite
        key's; a single column's negative ones (exact codes and null are >= 0)."""
        if len(self.key_columns) > 1:
            return np.ones(len(codes), dtype=bool)
        return codes < 0

    def _unconfirmed(self, codes: np.ndarray, hit: np.ndarray, refs: np.ndarray,
                     texted: np.ndarray, texts: pl.Series | None, first: np.ndarray,
                     group_start: np.ndarray, group: np.ndarray) -> np.ndarray:
        """Per group of equal codes in a chunk: True when the code alone cannot decide — its
        rows hold different keys, its hit is another key, or the code is in the overflow."""
        slow = np.zeros(len(codes), dtype=bool)
        if texts is None:
            return slow
        later = np.flatnonzero(~first & texted[group])
        if len(later):
            differs = (texts.gather(later) != texts.gather(group_start[later])).to_numpy()
            slow[group[later[differs]]] = True
        checked = np.flatnonzero(hit & texted & ~slow)
        if len(checked):
            firsts = np.flatnonzero(first)[checked]
            differs = (self._texts.get(refs[checked]) != texts.gather(firsts)).to_numpy()
            slow[checked[differs]] = True
        if self._overflow:
            slow |= texted & np.isin(codes, self._overflow_codes)
        return slow

    def _store_texts(self, texted: np.ndarray, texts: pl.Series | None,
                     rows: np.ndarray) -> np.ndarray | None:
        """Refs of the texts of new keys (sorted rows ``rows``); -1 for exact codes."""
        if texts is None or not texted.any():
            return None
        refs = np.full(len(texted), -1, dtype=np.int64)
        refs[texted] = self._texts.add(texts.filter(pl.Series(rows)).filter(pl.Series(texted)))
        return refs

    def _settle_slow(self, slow: np.ndarray, order: np.ndarray, codes: np.ndarray,
                     records: np.ndarray, texts: pl.Series | None, group: np.ndarray,
                     found: np.ndarray, hit: np.ndarray, refs: np.ndarray,
                     duplicate: np.ndarray, earlier: np.ndarray) -> None:
        """Rows whose code could not decide, one by one in input order, on their exact text."""
        assert texts is not None
        slow = slow[np.argsort(order[slow], kind="stable")]
        groups = group[slow]
        hits = np.unique(groups[hit[groups]])
        stored = dict(zip(hits.tolist(), self._texts.get(refs[hits]).to_list(), strict=True))
        for row, g, text in zip(slow.tolist(), groups.tolist(), texts.gather(slow).to_list(),
                                strict=True):
            code = int(codes[row])
            bucket = self._overflow.get(code, {})
            if stored.get(g) == text:
                duplicate[row], earlier[row] = True, found[g]
            elif text in bucket:
                duplicate[row], earlier[row] = True, bucket[text]
            else:
                self._overflow.setdefault(code, bucket)[text] = int(records[order[row]])
                self._count += 1
        self._overflow_codes = np.array(sorted(self._overflow), dtype=np.int64)

    # ------------------------------------------------------------------ search

    def _find(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Records, hit mask and text refs for sorted unique codes; each code lives in at most
        one place (another key with a code already taken goes to the overflow)."""
        found = np.full(len(queries), -1, dtype=np.int64)
        hit = np.zeros(len(queries), dtype=bool)
        refs = np.full(len(queries), -1, dtype=np.int64)
        if not len(queries) or not self._count:
            return found, hit, refs
        for keys, records, piece_refs in self._pieces:
            _search_windows(keys[::_WINDOW], int(keys[-1]), len(keys), queries, found, hit,
                            refs, lambda start, n, keys=keys: keys[start:start + n],
                            lambda start, n, records=records: records[start:start + n],
                            None if piece_refs is None else
                            lambda start, n, values=piece_refs: values[start:start + n])
        for run in self._runs:
            if len(self._key_window) < _WINDOW:
                self._key_window = np.empty(_WINDOW, dtype=np.int64)
                self._record_window = np.empty(_WINDOW, dtype=np.int64)
                self._ref_window = np.empty(_WINDOW, dtype=np.int64)
            with ExitStack() as stack:
                key_file, record_file = (stack.enter_context(open(path, "rb", buffering=0))
                                         for path in (run.keys_path, run.records_path))
                ref_file = None if run.refs_path is None else \
                    stack.enter_context(open(run.refs_path, "rb", buffering=0))
                _search_windows(
                    run.fences, run.last, run.size, queries, found, hit, refs,
                    lambda start, n, f=key_file: _read_into(f, self._key_window[:n], start),
                    lambda start, n, f=record_file: _read_into(f, self._record_window[:n],
                                                               start),
                    None if ref_file is None else
                    lambda start, n, f=ref_file: _read_into(f, self._ref_window[:n], start))
        return found, hit, refs

    # ------------------------------------------------------------------ growth

    def _add(self, codes: np.ndarray, records: np.ndarray, refs: np.ndarray | None) -> None:
        """Append sorted new codes; merge pieces binary-counter style, flush when full."""
        self._count += len(codes)
        self._in_memory += len(codes)
        self._pieces.append((codes, records, refs))
        while len(self._pieces) > 1 and len(self._pieces[-2][0]) <= 2 * len(self._pieces[-1][0]):
            last = self._pieces.pop()
            self._pieces[-1] = _merge_sorted([self._pieces[-1], last])
        if self._in_memory >= self.memory_keys:
            merged = _merge_sorted(self._pieces)
            self._pieces, self._in_memory = [], 0
            self._runs.append(self._write_run([merged], level=0,
                                              with_refs=merged[2] is not None))
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
                for path in run.paths():
                    path.unlink(missing_ok=True)
            self._runs.append(merged)

    def _spill_directory(self) -> Path:
        if self._directory is None:
            if self.spill_dir is not None:
                Path(self.spill_dir).mkdir(parents=True, exist_ok=True)
            self._directory = Path(tempfile.mkdtemp(prefix="migrate-keys-", dir=self.spill_dir))
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._directory, True)
        return self._directory

    def _write_run(self, blocks: Iterable[Piece], level: int, with_refs: bool) -> _Run:
        """Write sorted blocks, in order, as one run; fences come along."""
        directory = self._spill_directory()
        self._serial += 1
        stem = directory / f"run{self._serial:06d}"
        paths = [stem.with_suffix(".keys"), stem.with_suffix(".records")]
        if with_refs:
            paths.append(stem.with_suffix(".refs"))
        fences: list[np.ndarray] = []
        size, last = 0, 0
        with ExitStack() as stack:
            files = [stack.enter_context(open(path, "wb", opener=_private)) for path in paths]
            for block in blocks:
                keys = block[0]
                if not len(keys):
                    continue
                first_fence = -size % _WINDOW
                fences.append(keys[first_fence::_WINDOW].copy())
                keys.tofile(files[0])
                block[1].tofile(files[1])
                if with_refs:
                    _refs(block).tofile(files[2])
                size += len(keys)
                last = int(keys[-1])
        return _Run(paths[0], paths[1], paths[2] if with_refs else None, size, level,
                    np.concatenate(fences) if fences else np.empty(0, dtype=np.int64), last)

    def _merge_runs(self, runs: list[_Run]) -> _Run:
        """Streaming k-way merge in blocks of ``_WINDOW``: memory stays k windows."""
        level = max(run.level for run in runs) + 1
        with ExitStack() as stack:
            files = [[stack.enter_context(open(path, "rb")) for path in run.paths()]
                     for run in runs]
            return self._write_run(_merged_blocks(runs, files), level,
                                   with_refs=any(run.refs_path is not None for run in runs))


def _merged_blocks(runs: list[_Run], files: list[list[BinaryIO]]) -> Iterator[Piece]:
    """Yield sorted blocks of the union of ``runs`` (codes disjoint)."""
    position = [0] * len(runs)
    empty = np.empty(0, dtype=np.int64)
    buffered: list[Piece] = [(empty, empty, None) for _ in runs]
    while True:
        for i, run in enumerate(runs):
            if not len(buffered[i][0]) and position[i] < run.size:
                n = min(_WINDOW, run.size - position[i])
                read = []
                for file in files[i]:
                    file.seek(position[i] * 8)
                    read.append(np.fromfile(file, np.int64, n))
                buffered[i] = (read[0], read[1], read[2] if len(read) > 2 else None)
                position[i] += n
        live = [i for i in range(len(runs)) if len(buffered[i][0])]
        if not live:
            return
        pending = [int(buffered[i][0][-1]) for i in live if position[i] < runs[i].size]
        cutoff = min(pending) if pending else None
        parts = []
        for i in live:
            keys, records, refs = buffered[i]
            take = len(keys) if cutoff is None else int(np.searchsorted(keys, cutoff, "right"))
            if take:
                parts.append((keys[:take], records[:take], None if refs is None else refs[:take]))
                buffered[i] = (keys[take:], records[take:], None if refs is None else refs[take:])
        yield _merge_sorted(parts)
