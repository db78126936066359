"""The keys each YAML kind may hold, declared once beside the loader that reads them.

The loaders refuse a key that is not declared (`_Ctx.only_keys`, with a "did you mean"), and
`migrate check --json-schema KIND` generates the JSON Schema an editor checks against from the
same declarations: a key added to a declaration reaches both, so they cannot drift.
The values themselves are still checked by the loaders (with messages a JSON Schema cannot give);
the value shapes here only help the editor complete and flag what is obviously wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Shape:
    """Any value; `about` becomes the description an editor shows on hover."""

    about: str = ""


@dataclass(frozen=True)
class Value(Shape):
    """A scalar: `kinds` are JSON types (string, integer, number, boolean), `enum` its choices."""

    kinds: tuple[str, ...] = ("string",)
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class Obj(Shape):
    """A mapping with known keys; `open` lets other keys through (a check's parameters)."""

    keys: dict[str, Shape] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    open: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.keys)


@dataclass(frozen=True)
class Named(Shape):
    """A mapping of names the user chooses (fields, columns, record types) to `item`s."""

    item: Shape = field(default_factory=Shape)


@dataclass(frozen=True)
class ListOf(Shape):
    """A list of `item`s; with `single`, one item alone stands for a list of one."""

    item: Shape = field(default_factory=Shape)
    single: bool = False


@dataclass(frozen=True)
class AnyOf(Shape):
    """One of several shapes (a column mapping is a field name or a mapping)."""

    options: tuple[Shape, ...] = ()


@dataclass(frozen=True)
class Switch(Shape):
    """An Obj chosen by the value of one key (`source.format: fixed | delimited`)."""

    key: str = ""
    cases: dict[str, Obj] = field(default_factory=dict)
    default: str = ""

    def pick(self, value: object) -> Obj:
        return self.cases.get(str(value if value is not None else self.default),
                              self.cases[self.default])


TEXT = Value()
WHOLE = Value(kinds=("integer",), minimum=0)
POSITIVE = Value(kinds=("integer",), minimum=1)
NUMBER = Value(kinds=("number",))
FLAG = Value(kinds=("boolean",))
CODE = Value(kinds=("string", "integer"))
CODES = ListOf(item=CODE, single=True)
TITLE = Obj("A title in Japanese and English.", {"ja": TEXT, "en": TEXT})
