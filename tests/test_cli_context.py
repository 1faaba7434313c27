"""The CLI's per-invocation context: settings and engine belong to one command run, not to
the module (no cache to reset between invocations, the engine closed at the end)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

import storage.db
from bot.cli import app, common


def test_each_invocation_builds_and_closes_its_own_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[tuple[str, list[bool]]] = []
    make_engine = storage.db.make_engine

    def recording(url: str, **kwargs: Any) -> Engine:
        engine = make_engine(url, **kwargs)
        disposed: list[bool] = []
        original = engine.dispose

        def dispose(close: bool = True) -> None:
            disposed.append(True)
            original(close)

        monkeypatch.setattr(engine, "dispose", dispose)
        made.append((url, disposed))
        return engine

    monkeypatch.setattr(storage.db, "make_engine", recording)  # imported when first needed
    monkeypatch.delenv("PAPI_BOT_CONFIG", raising=False)
    runner = CliRunner()
    for name in ("first", "second"):
        url = f"sqlite:///{tmp_path / name}.db"
        monkeypatch.setenv("PAPI_BOT_DATABASE_URL", url)
        result = runner.invoke(app, ["init"])
        assert result.exit_code == 0, result.output
        assert f"{name}.db" in result.output
    assert [url.rsplit("/", 1)[-1] for url, _ in made] == ["first.db", "second.db"]
    assert all(disposed for _, disposed in made)  # closed when its command ended


def test_the_helpers_need_the_commands_context() -> None:
    """No module-level settings or engine to fall back on."""
    assert not [name for name in vars(common) if name.startswith("_config")]
    with pytest.raises(TypeError):
        common.settings()  # type: ignore[call-arg]
