"""YAML loading that remembers line numbers, so every layout error can say `file:line`.

A mapping or schema may come from anyone, so reading one is bounded: the file's size, how deep
its nodes nest (the composer and the constructor recurse) and how many nodes its aliases expand
to (an "alias bomb" of nested anchors is tiny on disk but exponential once `str()` walks it).
Breaking a bound is a `yaml.YAMLError` like any parse error, with the line where it happened.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
from pathlib import Path
from typing import Any

import yaml

MAX_YAML_BYTES = 8 * 1024 * 1024  # the bundled files are < 50 kB
MAX_DEPTH = 64  # nesting of mappings/sequences; the bundled files need 6
MAX_NODES = 200_000  # nodes after expanding every alias; the bundled files have < 3,000

# The encodings a misconfigured editor typically saves a Japanese YAML file in, in the order
# they are tried when the file is not UTF-8 (EUC-JP first: its byte pairs are stricter).
_GUESSES = ("utf-16", "euc_jp", "cp932")


class NotUtf8Error(ValueError):
    """The file is not UTF-8 text; `encoding` is a guess (None when nothing fits)."""

    def __init__(self, encoding: str | None, line: int):
        super().__init__(encoding)
        self.encoding = encoding
        self.line = line


class TooLargeError(ValueError):
    """The file is larger than MAX_YAML_BYTES, or not a regular file."""

    def __init__(self, size: int | None):
        super().__init__(size)
        self.size = size


class LocatedDict(dict):
    """A mapping node that knows its own line and column and those of each key (1-based)."""

    line: int = 0
    col: int = 0
    key_lines: dict[str, int]
    key_cols: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)

    def col_of(self, key: str) -> int:
        return getattr(self, "key_cols", {}).get(key, self.col)


class LocatedList(list):
    """A sequence node that knows its own line and column and the line of each item (1-based)."""

    line: int = 0
    col: int = 0
    item_lines: list[int]


class YamlLimitError(yaml.composer.ComposerError):
    """Nesting or alias expansion beyond the bounds."""


class _Loader(yaml.SafeLoader):
    """SafeLoader with bounded nesting and alias expansion."""

    _depth = 0
    # When a list: a repeated key is noted here (key, line, column) and its first value kept,
    # so `migrate check` reports every one; otherwise it is a parse error.
    duplicates: list[tuple[str, int, int]] | None = None

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlLimitError(
                    None, None, f"nesting deeper than {MAX_DEPTH} levels",
                    self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Any:
        node = super().get_single_node()
        if node is not None:
            _check_expansion(node)
        return node


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand to more than MAX_NODES nodes or nest deeper than
    MAX_DEPTH once expanded (a chain of anchors, each nesting the previous one). Linear: each
    distinct node is measured once; recursion follows the written nesting, which is bounded."""
    measured: dict[int, tuple[int, int]] = {}  # id(node) → (expanded nodes, expanded depth)

    def measure(node: yaml.Node) -> tuple[int, int]:
        known = measured.get(id(node))
        if known is not None:
            return known
        measured[id(node)] = (1, 1)  # a recursive alias counts once; the constructor refuses it
        if isinstance(node, yaml.SequenceNode):
            children = [measure(child) for child in node.value]
        elif isinstance(node, yaml.MappingNode):
            children = [measure(part) for pair in node.value for part in pair]
        else:
            children = []
        size = 1 + sum(c[0] for c in children)
        depth = 1 + max((c[1] for c in children), default=0)
        if size > MAX_NODES:
            raise YamlLimitError(None, None, f"aliases expand to more than {MAX_NODES:,} nodes",
                                 node.start_mark)
        if depth > MAX_DEPTH:
            raise YamlLimitError(None, None, f"aliases nest deeper than {MAX_DEPTH} levels",
                                 node.start_mark)
        measured[id(node)] = (size, depth)
        return size, depth

    measure(root)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LocatedDict:
    loader.flatten_mapping(node)
    result = LocatedDict()
    result.line = node.start_mark.line + 1
    result.col = node.start_mark.column + 1
    result.key_lines = {}
    result.key_cols = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int):
            raise yaml.constructor.ConstructorError(
                None, None, "mapping keys must be text", key_node.start_mark
            )
        key = str(key)
        if key in result and loader.duplicates is not None:
            loader.duplicates.append((key, key_node.start_mark.line + 1,
                                      key_node.start_mark.column + 1))
            continue
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
        result.key_cols[key] = key_node.start_mark.column + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LocatedList:
    result = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.col = node.start_mark.column + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def read_text(path: Path, limit: int = MAX_YAML_BYTES) -> str:
    """A small UTF-8 text file (a leading BOM is dropped). Raises TooLargeError for a file over
    `limit` bytes or a device/FIFO (never read to the end), NotUtf8Error naming a guess."""
    mode = os.stat(path).st_mode  # before opening: opening a FIFO would wait for a writer
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if not stat.S_ISREG(mode):
        raise TooLargeError(None)
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise TooLargeError(size)
        data = handle.read(limit + 1)
    if len(data) > limit:  # grew while being read
        raise TooLargeError(len(data))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise NotUtf8Error(guess_encoding(data), line) from None


def guess_encoding(data: bytes) -> str | None:
    """The first of the usual Japanese encodings the bytes decode in without error."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in _GUESSES[1:]:
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def load_yaml(path: Path, duplicates: list[tuple[str, int, int]] | None = None) -> Any:
    """Parse a YAML file into LocatedDict / LocatedList nodes (plain scalars otherwise).
    With `duplicates`, repeated keys are noted there instead of refused."""
    loader = _Loader(read_text(path))
    loader.duplicates = duplicates
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
