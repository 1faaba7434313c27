"""Storage is the only writer: no module outside ``storage/`` adds, deletes or merges rows
through a session, or executes an INSERT, UPDATE or DELETE. Each write is a named function in
``storage/`` (record a progress update, link an identity, store a plan, ...) that the edges
and the conversation call.

The scan is syntactic: a call ``<something named *session*>.add/add_all/delete/merge/bulk_*``
and ``.execute(...)`` of a statement built with ``insert``, ``update`` or ``delete``. Setting
an attribute of a stored row is watched at run time (``tests/handlers/test_writes_at_run_time.py``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE_STORAGE = ("bot", "handlers", "kernel")
SESSION_WRITES = {
    "add",
    "add_all",
    "delete",
    "merge",
    "bulk_save_objects",
    "bulk_insert_mappings",
    "bulk_update_mappings",
}
STATEMENTS = {"insert", "update", "delete"}
# No exceptions: the outbox's and the console's writes moved into storage/ too
# (storage/outbox_rows.py, storage.identities.link_identity).
ALLOWED: set[str] = set()


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _builds_statement(node: ast.AST) -> bool:
    return any(
        isinstance(sub, ast.Call) and _name(sub.func) in STATEMENTS for sub in ast.walk(node)
    )


def writes(source: str) -> Iterator[tuple[int, str]]:
    """(line, code) of every database write in ``source``."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        method, receiver = node.func.attr, node.func.value
        if method in SESSION_WRITES and "session" in ast.unparse(receiver).lower():
            yield node.lineno, ast.unparse(node.func)
        elif method == "execute" and node.args and _builds_statement(node.args[0]):
            yield node.lineno, f"{ast.unparse(node.func)}({ast.unparse(node.args[0])[:40]})"


def test_only_storage_writes() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {code}"
        for package in OUTSIDE_STORAGE
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.relative_to(ROOT).as_posix() not in ALLOWED
        for line, code in writes(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "write through a named function in storage/ instead:\n" + "\n".join(found)


def test_the_allowed_modules_still_exist() -> None:
    """Once the outbox bookkeeping moves into storage/, the allow-list entry must go too."""
    assert all((ROOT / path).is_file() for path in ALLOWED)


def test_the_scan_finds_each_kind_of_write() -> None:
    sample = """
ctx.session.add(row)
session.add_all(rows)
self.session.delete(row)
session.merge(row)
session.execute(update(Invite).where(x).values(y=1))
connection.execute(insert(OutboxMessage).returning(col(OutboxMessage.id)), rows)
session.execute(sa.delete(ConversationState))
session.exec(select(Unit))
found.add(code)
session.execute(select(Unit.id))
"""
    assert [line for line, _code in writes(sample)] == [2, 3, 4, 5, 6, 7, 8]
