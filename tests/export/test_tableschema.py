"""The Table Schema of a layout: a text's length constraint counts an IVS as one character, as
the layout does, so a name at its limit passes Frictionless and one over it fails."""

from __future__ import annotations

import re

import pytest

from migrate.export.tableschema import field_of, text_length_pattern
from migrate.layouts import load_schema
from migrate.layouts.characters import char_length

IVS = "\U000e0100"


@pytest.mark.parametrize("text, fits", [
    ("葛" * 5, True), ("葛" + IVS + "葛" * 4, True), (("葛" + IVS) * 5, True),
    ("葛" * 6, False), (("葛" + IVS) * 5 + "葛", False), ("", True), (IVS, False),
    ("葛" + IVS + IVS, False), ("葛\ufe00葛", True)])
def test_the_pattern_counts_characters_as_the_layout_does(text, fits):
    assert bool(re.fullmatch(text_length_pattern(0, 5), text)) == fits
    if fits:
        assert char_length(text) <= 5


def test_frictionless_accepts_an_ivs_name_at_its_limit_and_refuses_a_longer_one(tmp_path):
    from frictionless import Resource, Schema

    spec = next(c for c in load_schema("juki/v1").columns
                if c.dtype == "str" and c.max_length and not c.required)
    field = field_of(spec)
    assert "maxLength" not in field.get("constraints", {})
    limit = spec.max_length
    at_limit = "葛" + IVS + "a" * (limit - 1)      # limit characters, limit + 1 code points
    over = at_limit + "a"
    path = tmp_path / "names.csv"
    path.write_text(f"{spec.name}\n{at_limit}\n{over}\n", encoding="utf-8")
    report = Resource(path=path.name, basepath=str(tmp_path),
                      schema=Schema.from_descriptor({"fields": [field]})).validate()
    assert report.flatten(["rowNumber", "type"]) == [[3, "constraint-error"]]
