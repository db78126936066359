"""Declarations only: standard layouts, legacy mappings, migration plans, code and 外字 tables,
loaded from YAML/CSV into frozen dataclasses that every stage reads instead of raw dicts.

Imports nothing of the stages above it; only `migrate.errors` (and through it `migrate.i18n`).
"""

from migrate.layouts.eras import DEFAULT_ERAS, Era, EraTable
from migrate.layouts.mapping import (
    ChildRecord,
    ColumnMapping,
    Mapping,
    find_mapping,
    list_bundled_mappings,
    load_mapping,
)
from migrate.layouts.plan import Plan, PlanInput, is_plan, load_plan
from migrate.layouts.schema import (
    CheckSpec,
    ColumnSpec,
    GroupCheckSpec,
    Reference,
    RuleSpec,
    Schema,
    find_schema,
    load_schema,
)
from migrate.layouts.source import FieldSpec, RecordTypes, SourceSpec, TrailerSpec
from migrate.layouts.tables import CodeTable, load_code_table, load_gaiji_table

__all__ = [
    "DEFAULT_ERAS",
    "CheckSpec",
    "ChildRecord",
    "CodeTable",
    "ColumnMapping",
    "ColumnSpec",
    "Era",
    "EraTable",
    "FieldSpec",
    "GroupCheckSpec",
    "Mapping",
    "Plan",
    "PlanInput",
    "RecordTypes",
    "Reference",
    "RuleSpec",
    "Schema",
    "SourceSpec",
    "TrailerSpec",
    "find_mapping",
    "find_schema",
    "is_plan",
    "list_bundled_mappings",
    "load_code_table",
    "load_gaiji_table",
    "load_mapping",
    "load_plan",
    "load_schema",
]
