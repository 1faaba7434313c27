"""aiogram imported with its type models built when first used, not all at import.

aiogram declares its ~400 types ``defer_build=True``, but ``aiogram/types/__init__.py`` then
calls ``model_rebuild(_types_namespace=<every type>)`` on each of them, and pydantic builds a
validator and a serializer every time: ≈ 2 s of CPU on the development machine, the largest
part of ``papi-bot run``'s start (process start → first ``getUpdates``), although the bot uses
a few dozen of them.

``import_aiogram`` imports aiogram with those calls left out, and puts the names of the
namespace aiogram passed them into the modules of ``aiogram.types`` and ``aiogram.methods``
(which import each other only under ``TYPE_CHECKING``). Pydantic's own deferred build
(``defer_build``) then finds every name when a model is first validated or serialized:
``Update`` when the first update is read, ``Response[Message]`` with the first answer; a
method defined before the types it names were built, or a ``Response[...]`` made later,
resolves its fields the same way. Each model is built once, on first use, with the names
aiogram would have given it; the ones a bot never uses are never built.
aiogram objects are only used on the event loop's thread, so no two threads build one model
at once (pydantic's first build is not thread-safe).

When aiogram is already imported (a test, another entry point) nothing changes. The wrapper
relies on ``BaseModel.model_rebuild``'s keywords (pydantic 2.x): if a pydantic release changes
them, the import fails loudly at start-up and the test below fails.
``tests/channels/test_telegram_lazy_models.py`` checks that every type and method builds this
way into the same core schema as with a plain ``import aiogram``, and that updates and
requests read and write the same.
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import BaseModel


def import_aiogram() -> bool:
    """Import aiogram with the build of its types deferred; False if it was imported before."""
    if "aiogram" in sys.modules:
        return False
    original = BaseModel.__dict__["model_rebuild"]
    names: dict[str, Any] = {}

    def skip_forced_build(
        cls: type[BaseModel],
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: dict[str, Any] | None = None,
    ) -> bool | None:
        if _types_namespace is not None and not force and cls.__module__.startswith("aiogram."):
            names.update(_types_namespace)  # aiogram passes the same one to every type
            return None
        return original.__func__(  # type: ignore[no-any-return]
            cls,
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=_parent_namespace_depth + 1,  # this wrapper is a frame
            _types_namespace=_types_namespace,
        )

    BaseModel.model_rebuild = classmethod(skip_forced_build)  # type: ignore[method-assign, assignment]
    try:
        import aiogram  # noqa: F401
    finally:
        BaseModel.model_rebuild = original  # type: ignore[method-assign]
    for name, module in list(sys.modules.items()):
        if module is not None and name.startswith(("aiogram.types.", "aiogram.methods.")):
            for key, value in names.items():
                module.__dict__.setdefault(key, value)
    return True
