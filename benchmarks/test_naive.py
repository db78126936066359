"""The naive reference (benchmarks/naive.py) computes what migrate computes, so comparing their
speed is fair: same accepted rows, same rejected records, and its per-value decoders agree with
migrate's vectorized ones.

Every juki.csv column is compared; none is skipped.  What naive.py leaves out (warnings, the
zokugara_chain check, migrate's detailed rejects file) cannot change which rows are accepted on
generated data, and is listed in its docstring.
"""

from __future__ import annotations

import csv
import importlib.util
import itertools
from pathlib import Path

import numpy as np
import pytest

from migrate.decode import decode_packed, decode_wareki, decode_ymd, decode_zoned
from migrate.layouts import load_mapping
from migrate.run.pipeline import RunOptions, run
from migrate.synth.generate import generate

_spec = importlib.util.spec_from_file_location("naive", Path(__file__).with_name("naive.py"))
naive = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(naive)


@pytest.fixture(scope="module")
def mapping():
    return load_mapping("vendor_a/juki")


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_accepted_rows_equal_migrate(tmp_path, mapping):
    data = tmp_path / "juki.dat"
    generate(mapping, data, 3000, seed=3, defects=40)
    result = run(RunOptions(mapping, data, tmp_path / "migrate"))
    assert result.exit_code == 0
    summary = naive.convert(mapping, data, tmp_path / "naive")

    ours, theirs = read_csv(tmp_path / "naive" / "juki.csv"), \
        read_csv(tmp_path / "migrate" / "juki.csv")
    assert ours[0] == theirs[0] == mapping.target.column_names
    assert len(ours) == len(theirs)
    for mine, migrates in zip(ours, theirs, strict=True):
        assert mine == migrates
    assert summary["accepted"] == result.ledger.accepted
    assert summary["rejected"] == result.ledger.rejected

    migrate_reasons: dict[str, set[str]] = {}
    with open(tmp_path / "migrate" / "rejects.csv", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            migrate_reasons.setdefault(row["record"], set()).add(row["reason"])
    with open(tmp_path / "naive" / "rejects.csv", encoding="utf-8") as handle:
        naive_rejects = list(csv.DictReader(handle))
    assert {r["record"] for r in naive_rejects} == set(migrate_reasons)
    for row in naive_rejects:
        assert row["reason"] in migrate_reasons[row["record"]], row


def _cells(values: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(values), np.uint8).reshape(len(values), len(values[0]))


def _naive_value(decode, raw: bytes):
    try:
        return decode(raw), None
    except naive.Bad as exc:
        return None, exc.args[0]


def _agree(result, outcomes) -> None:
    values = result.values.cast(str).to_list()
    errors = result.errors.to_list()
    for i, (value, reason) in enumerate(outcomes):
        assert (value, reason) == (values[i], errors[i]), i


@pytest.mark.parametrize("lenient", [False, True])
def test_wareki_and_ymd_agree_with_migrate(mapping, lenient):
    wareki, ymd = naive.make_dates(mapping)
    era_values = [b"0", b"1", b"2", b"3", b"4", b"5", b"6"]
    years = [b"00", b"01", b"02", b"05", b"06", b"15", b"31", b"45", b"64", b"99"]
    months = [b"00", b"01", b"02", b"04", b"07", b"12", b"13"]
    days = [b"00", b"01", b"07", b"08", b"25", b"29", b"30", b"31", b"32"]
    raws = [e + y + m + d for e, y, m, d in itertools.product(era_values, years, months, days)]
    raws += [b"0000000", b"       ", b"3A10101", b"4 10101"]
    outcomes = [_naive_value(lambda r: wareki(r, lenient)[0], raw) for raw in raws]
    _agree(decode_wareki(_cells(raws), lenient_calendar=lenient), outcomes)

    raws = [y + m + d for y, m, d in itertools.product(
        [b"0000", b"1900", b"1989", b"2000", b"2023", b"2024"], months, days)]
    raws += [b"00000000", b"        ", b"2024A101"]
    outcomes = [_naive_value(lambda r: ymd(r, lenient)[0], raw) for raw in raws]
    _agree(decode_ymd(_cells(raws), lenient_calendar=lenient), outcomes)


def test_packed_and_zoned_agree_with_migrate():
    rng = np.random.default_rng(5)
    raws = [bytes(rng.integers(0, 256, 5, dtype=np.uint8)) for _ in range(500)]
    raws += [bytes.fromhex(h) for h in ("123456789c", "123456789d", "000000000f",
                                        "000000001b", "123456780a", "1a3456789c")]
    outcomes = [_naive_value(naive.packed, raw) for raw in raws]
    result = decode_packed(_cells(raws))
    assert [v for v, _ in outcomes] == result.values.to_list()
    assert [r for _, r in outcomes] == result.errors.to_list()

    alphabet = b"0123456789{}ABCIJKR -x"
    raws = [bytes(rng.choice(list(alphabet), 4).astype(np.uint8)) for _ in range(500)]
    raws += [b"    ", b"123}", b"000J", b"12 3"]
    outcomes = [_naive_value(naive.zoned, raw) for raw in raws]
    result = decode_zoned(_cells(raws))
    assert [v for v, _ in outcomes] == result.values.to_list()
    assert [r for _, r in outcomes] == result.errors.to_list()


def test_kana_agrees_with_migrate():
    import polars as pl

    from migrate.decode import to_fullwidth_kana

    values = ["ｶﾞｶ", "ﾊﾟﾋﾟﾌﾟ", "ｳﾞｧｲｵﾘﾝ", "ﾞ", "ｱﾞ", "ｺｰﾎﾟ①２０１", "ﾔﾏﾀﾞ ﾀﾛｳ", "ｶﾀｶﾅ｡｢｣､･"]
    assert [naive.to_fullwidth(v) for v in values] == \
        to_fullwidth_kana(pl.Series(values)).to_list()
