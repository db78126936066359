"""Find the message ids in the source code (used by scripts/update_messages.py and the tests).

A message id is a string literal passed as: the first argument of t()/_() or of an error class
(migrate.errors), a `hint=` keyword, the message/hint arguments of a layout-context `fail()` or of a
check rule's `finding()`, or a value
of the REASONS table. Keeping the rules in code lets a test prove every id is translated.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # the migrate package
ERROR_CLASSES = ("MigrateError", "UsageError", "LayoutError", "InputFormatError",
                 "ReconciliationError", "ResumeRefused")


def _literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _name(func: ast.AST) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _from_call(call: ast.Call) -> list[str]:
    name = _name(call.func)
    found: list[str | None] = []
    if name in ("t", "_") or name in ERROR_CLASSES:
        found.append(_literal(call.args[0]) if call.args else None)
    if name in ("fail", "finding"):  # layout context, and `migrate check` rules
        found.extend(_literal(a) for a in call.args[2:4])
    found.extend(_literal(k.value) for k in call.keywords if k.arg == "hint")
    return [f for f in found if f]


def _from_reasons(tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "REASONS" for t in targets) and \
                    isinstance(node.value, ast.Dict):
                for value in node.value.values:
                    if isinstance(value, ast.Tuple):
                        found.extend(s for s in map(_literal, value.elts) if s)
    return found


def extract_messages(root: Path = PACKAGE) -> dict[str, list[tuple[str, int]]]:
    """msgid → [(file, line), …] for every message id in the package."""
    messages: dict[str, list[tuple[str, int]]] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = str(path.relative_to(root.parent))
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "hint" for t in node.targets):
                msgid = _literal(node.value)
                if msgid:
                    messages.setdefault(msgid, []).append((rel, node.lineno))
            if isinstance(node, ast.Call):
                for msgid in _from_call(node):
                    messages.setdefault(msgid, []).append((rel, node.lineno))
        for msgid in _from_reasons(tree):
            messages.setdefault(msgid, []).append((rel, 0))
    return messages
