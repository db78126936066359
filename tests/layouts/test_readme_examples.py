"""The README's mapping-reference examples of the mapping language's newer keys are loaded, as
they are written there, into a copy of the vendor_a resident mapping: an example that stops
loading, or means something else than the README says, fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from migrate.layouts import load_mapping

ROOT = Path(__file__).resolve().parents[2]
NEW_KEYS = re.compile(r"\bvalue:|\bdefault:|file_name|\bkey: \[|\blookup:|\bset:|\bsplit:"
                      r"|strict_chars:")


def _reference() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text[text.index("## Mapping reference"):text.index("## Layout of the repository")]


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", _reference(), flags=re.S)


def examples() -> list[str]:
    return [b for b in _blocks("yaml") if NEW_KEYS.search(b)]


def test_there_are_examples_of_the_new_keys() -> None:
    found = "".join(examples())
    for key in ("value:", "default:", "file_name", "key: [", "set:", "lookup:", "split:"):
        assert key in found, key


def _splice(mapping_path: Path, schema_path: Path, block: str) -> dict[str, object]:
    """Put the example's columns into the mapping (replacing the vendor's line for the same
    column; a column juki/v1 lacks is added to the copied layout as text)."""
    columns = yaml.safe_load(block)["columns"]
    head, _, text = mapping_path.read_text(encoding="utf-8").partition("\ncolumns:\n")
    schema = schema_path.read_text(encoding="utf-8")
    for line in block.splitlines()[1:]:
        name = line.split(":", 1)[0].strip()
        pattern = re.compile(rf"^  {name}:.*$", re.M)
        entry = line.split("#", 1)[0].rstrip() if "#" in line else line
        if pattern.search(text):
            text = pattern.sub(lambda _m, e=entry: e, text)
        else:
            text += entry + "\n"
        if f"name: {name}\n" not in schema:
            schema = schema.replace("\ncolumns:\n", f"\ncolumns:\n  - {{name: {name}, ja: {name}, "
                                                    "en: name, dtype: str}\n", 1)
    for node in columns.values():  # a field the vendor_a file lacks: its address bytes
        field = node.get("from") if isinstance(node, dict) else None
        if field and f"\n  {field}:" not in head:
            head = head.replace("\nfields:\n", f"\nfields:\n  {field}: {{offset: 214, length: 70, "
                                "type: text}\n", 1)
    mapping_path.write_text(head + "\ncolumns:\n" + text, encoding="utf-8")
    schema_path.write_text(schema, encoding="utf-8")
    return columns


@pytest.mark.parametrize("block", [b for b in examples() if b.startswith("columns:")])
def test_column_examples_load_as_written(block: str, mapping_copy) -> None:
    path = mapping_copy()
    schema_path = path.parent.parent / "schemas" / "juki" / "v1.yaml"
    for table in _blocks("csv"):
        if table.startswith("sex,zokugara,standard"):
            (path.parent / "codes" / "zokugara_by_sex.csv").write_text(table, encoding="utf-8")
    columns = _splice(path, schema_path, block)
    mapping = load_mapping(path)
    by_column = {cm.column: cm for cm in mapping.columns}
    for name, node in columns.items():
        cm = by_column[name]
        if "value" in node:
            assert (cm.kind, cm.value) == ("constant", node["value"])
        if "default" in node:
            assert cm.default == node["default"]
        if node.get("source") == "file_name":
            assert cm.kind == "file_name"
        if isinstance(node.get("codes"), dict):
            assert cm.kind == "codes" and cm.codes is not None
            assert cm.codes.key == tuple(node["codes"]["key"])
            assert ("0", "02") in cm.codes.mapping and ("", "04") in cm.codes.mapping
        if "split" in node:
            assert (cm.kind, cm.split, cm.source) == ("field", node["split"], node["from"])
            assert cm.check_lg_code == node.get("check_lg_code")
        if "lookup" in node:
            lookup = node["lookup"]
            assert cm.kind == "lookup" and cm.lookup is not None
            assert (cm.lookup.match, cm.lookup.take) == ((lookup["match"],), lookup["take"])
            assert cm.lookup.where == tuple((k, (v,)) for k, v in lookup["where"].items())


def test_the_kana_set_example_loads(mapping_copy) -> None:
    block = next(b for b in examples() if "check: katakana" in b)
    path = mapping_copy()
    schema_path = path.parent.parent / "schemas" / "juki" / "v1.yaml"
    checks = block.rstrip().splitlines()
    schema = schema_path.read_text(encoding="utf-8")
    schema = schema.replace("    checks: [katakana]\n", "\n".join(checks) + "\n")
    schema_path.write_text(schema, encoding="utf-8")
    spec = load_mapping(path).target.column("shimei_kana")
    assert [(c.name, c.params) for c in spec.checks] == [("katakana", {"set": "jis_x0208_kana"})]


def test_the_gaiji_table_and_strict_chars_examples_load(mapping_copy) -> None:
    table = next(b for b in _blocks("csv") if b.startswith("code,char,mj"))
    block = next(b for b in examples() if "strict_chars:" in b)
    setting = block.splitlines()[1].split("#")[0].rstrip()
    path = mapping_copy(lambda text: text.replace("\nsource:\n", "\nsource:\n" + setting + "\n", 1))
    (path.parent / "gaiji.csv").write_text(table, encoding="utf-8")
    source = load_mapping(path).source
    assert source.strict_chars == "mj"
    assert "葛\U000e0100" in source.gaiji.values() and "𠮷" in source.gaiji.values()
