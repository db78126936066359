"""The bundled list of local governments (migrate/layouts/data/lg_codes.csv)."""

from __future__ import annotations

import polars as pl

from migrate.layouts.addresses import local_governments
from migrate.validate.checkdigits import is_valid_lg_code


def test_the_list_is_whole_and_its_codes_are_valid() -> None:
    lg = local_governments()
    municipalities = [m for ms in lg.by_prefecture.values() for m in ms]
    assert len(lg.prefectures) == 47 and len(municipalities) == 1741
    assert {"札幌市", "浜松市", "熊本市"} <= {m.city for m in municipalities if m.designated}
    assert sum(m.designated for m in municipalities) == 20
    codes = pl.Series([m.code for m in municipalities])
    assert is_valid_lg_code(codes).all()
    assert len({m.code for m in municipalities}) == len(municipalities)


def test_names_that_begin_with_another_name_come_first() -> None:
    hiroshima = [m.city for m in local_governments().by_prefecture["広島県"]]
    assert hiroshima.index("府中町") >= 0 and hiroshima.index("広島市") >= 0
    lengths = [len(c) for c in hiroshima]
    assert lengths == sorted(lengths, reverse=True)
