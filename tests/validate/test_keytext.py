"""Key texts: injective per key, and stored texts read back byte for byte."""

from __future__ import annotations

import numpy as np
import polars as pl

from migrate.validate import keytext
from migrate.validate.keytext import TextStore, row_texts


def test_row_texts_tell_every_tuple_apart():
    pairs = [("1:", ""), ("1", ":"), ("", "1:"), (None, ""), ("", None), (None, None),
             ("-", None), (None, "-"), ("a", "bc"), ("ab", "c"), ("ｱ", "1")]
    frame = pl.DataFrame({"a": [p[0] for p in pairs], "b": [p[1] for p in pairs]},
                         schema={"a": pl.Utf8, "b": pl.Utf8})
    texts = row_texts(frame).to_list()
    assert len(set(texts)) == len(pairs)
    assert None not in texts


def test_a_value_is_its_string_form():
    numbers = row_texts(pl.DataFrame({"k": [12, 10**18, -3]}))
    assert numbers.to_list() == row_texts(pl.DataFrame({"k": ["12", str(10**18), "-3"]})).to_list()
    nested = row_texts(pl.DataFrame({"k": [[1, 2], [3]]}))
    assert nested.to_list() == ["[1, 2]", "[3]"]


def test_store_reads_back_from_buffer_file_and_long_texts(tmp_path, monkeypatch):
    monkeypatch.setattr(keytext, "_FLUSH", 50)   # most texts go to the file
    monkeypatch.setattr(keytext, "_BLOCK", 16)   # and are read back in many blocks
    rng = np.random.default_rng(3)
    alphabet = list("abcｱｲｳ住民1-:")
    values = ["".join(rng.choice(alphabet, rng.integers(0, 12))) for _ in range(300)]
    values.insert(100, "長" * (1 << 19))  # 1.5 MiB: longer than a ref's length field holds
    store = TextStore(lambda: tmp_path)
    refs = np.concatenate([store.add(pl.Series(values[i:i + 37]))
                           for i in range(0, len(values), 37)])
    assert (tmp_path / "keys.text").stat().st_size > 0
    pick = rng.integers(0, len(values), 500)
    assert store.get(refs[pick]).to_list() == [values[i] for i in pick]
    assert store.get(refs).to_list() == values
    store.close()
