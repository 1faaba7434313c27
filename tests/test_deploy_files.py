"""Issue 16: the deploy/ files start what the code provides (roles, extras, config keys)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from bot.config import load_settings
from bot.roles import Role

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def test_the_compose_file_runs_known_roles_after_init() -> None:
    text = (DEPLOY / "compose.yaml").read_text("utf-8")
    roles = set(re.findall(r'"--role", "(\w+)"', text))
    assert roles == {"web", "worker", "scheduler"} <= {role.value for role in Role}
    assert '["init"]' in text and "service_completed_successfully" in text
    assert "postgresql+psycopg://" in text and "image: postgres:" in text


def test_the_image_installs_the_postgres_extra() -> None:
    text = (DEPLOY / "Dockerfile").read_text("utf-8")
    assert "'.[postgres]'" in text and "USER papi" in text


def test_the_systemd_unit_runs_a_role_per_instance() -> None:
    text = (DEPLOY / "papi-bot.service").read_text("utf-8")
    assert "run --role %i" in text and "EnvironmentFile=" in text and "UMask=0077" in text


def test_the_container_config_loads_and_holds_no_secret() -> None:
    path = DEPLOY / "config.toml"
    tomllib.loads(path.read_text("utf-8"))
    settings = load_settings(path, {}, use_default_path=False)
    assert settings.app.log_format == "json" and settings.web.host == "0.0.0.0"
