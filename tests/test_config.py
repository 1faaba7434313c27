"""Configuration: defaults, environment overrides, secrets only from the environment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import ConfigError, Settings, load_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_TOML = REPO_ROOT / "config.toml"


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_equal_the_shipped_config_toml() -> None:
    from_file = load_settings(CONFIG_TOML, env={})
    built_in = load_settings(None, env={}, use_default_path=False)
    assert from_file == built_in
    assert built_in.app.timezone == "Asia/Ho_Chi_Minh"
    assert built_in.app.default_locale == "vi"
    assert built_in.database.url.startswith("sqlite:///")
    assert built_in.invites.ttl_days == 14
    assert built_in.quiet_hours.start == dt.time(21, 0)


def test_every_section_of_the_model_is_in_config_toml() -> None:
    text = CONFIG_TOML.read_text(encoding="utf-8")
    for section in Settings.model_fields:
        if section != "secrets":
            assert f"[{section}]" in text, section


def test_environment_overrides(tmp_path: Path) -> None:
    other = _file(tmp_path, '[invites]\nttl_days = 3\n[app]\ndefault_locale = "en"\n')
    settings = load_settings(
        env={
            "PAPI_BOT_CONFIG": str(other),
            "PAPI_BOT_DATABASE_URL": "postgresql+psycopg://papi@127.0.0.1/papi",
            "TELEGRAM_BOT_TOKEN": "123456:SECRET-token",
            "ZALO_BOT_TOKEN": "zalo-secret",
        }
    )
    assert settings.invites.ttl_days == 3
    assert settings.app.default_locale == "en"
    assert settings.database.url == "postgresql+psycopg://papi@127.0.0.1/papi"
    token = settings.secrets.telegram_bot_token
    assert token is not None and token.get_secret_value() == "123456:SECRET-token"
    zalo = settings.secrets.zalo_bot_token
    assert zalo is not None and zalo.get_secret_value() == "zalo-secret"
    # Secrets never print by accident, and are not part of a dump of the settings.
    assert "SECRET" not in repr(settings) and "SECRET" not in str(settings.model_dump())


def test_no_secret_without_environment() -> None:
    settings = load_settings(None, env={}, use_default_path=False)
    assert settings.secrets.telegram_bot_token is None


def test_database_url_env_beats_the_file(tmp_path: Path) -> None:
    path = _file(tmp_path, '[database]\nurl = "sqlite:///from-file.db"\n')
    settings = load_settings(path, env={"PAPI_BOT_DATABASE_URL": "sqlite:///from-env.db"})
    assert settings.database.url == "sqlite:///from-env.db"


@pytest.mark.parametrize(
    "text",
    ['[telegram]\nbot_token = "123:abc"\n', 'zalo_bot_token = "x"\n', '[x]\npassword = "p"\n'],
)
def test_a_secret_in_the_file_is_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match="only from the environment") as caught:
        load_settings(_file(tmp_path, text), env={})
    assert "123:abc" not in str(caught.value)  # the error names the key, never the value


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[invites]\nttl_days = 0\n", "invites.ttl_days"),
        ('[app]\ntimezone = "Mars/Olympus"\n', "app.timezone"),
        ('[app]\ndefault_locale = "fr"\n', "app.default_locale"),
        ('[report_calendar]\ndeadlines = ["13-01"]\n', "report_calendar.deadlines.0"),
        ("[reminders]\ndays_before_due = [0]\n", "reminders.days_before_due"),
        ('[quiet_hours]\nstart = "25:00"\n', "quiet_hours.start"),
        ("[telegram]\nwebhook_port = 70000\n", "telegram.webhook_port"),
        ("[app]\ncolour = 1\n", "app.colour: unknown key"),
        ('[digest]\nweekday = "someday"\n', "digest.weekday"),
    ],
)
def test_a_wrong_value_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_settings(_file(tmp_path, text), env={})


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(_file(tmp_path, "[app\n"), env={})
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml", env={})
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(env={"PAPI_BOT_CONFIG": str(tmp_path / "nope.toml")})


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, db_url: str) -> Iterator[CliRunner]:
    monkeypatch.setenv("PAPI_BOT_DATABASE_URL", db_url)
    monkeypatch.delenv("PAPI_BOT_CONFIG", raising=False)
    yield CliRunner()


def test_cli_exits_2_naming_the_key(runner: CliRunner, tmp_path: Path) -> None:
    path = _file(tmp_path, "[invites]\nttl_days = -1\n")
    result = runner.invoke(app, ["--config", str(path), "status"])
    assert result.exit_code == 2
    assert "invites.ttl_days" in result.stderr
    assert result.stderr.count("\n") == 1  # one clear line


def test_cli_refuses_a_secret_in_the_file(runner: CliRunner, tmp_path: Path) -> None:
    path = _file(tmp_path, '[telegram]\nbot_token = "123:abc"\n')
    result = runner.invoke(app, ["--config", str(path), "init"])
    assert result.exit_code == 2
    assert "telegram.bot_token" in result.stderr and "123:abc" not in result.stderr
    assert not Path(str(tmp_path / "papi-bot.db")).exists()  # nothing was created
