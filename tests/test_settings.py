"""Settings from the environment: clear refusals, secrets that never print."""

import pickle

import pytest

from bot.settings import Secret, Settings, SettingsError

from .github import app_key

KEY = app_key()[0]


def env(**changes):
    base = {"GITHUB_APP_ID": "12", "GITHUB_PRIVATE_KEY": KEY.replace("\n", "\\n"), "GITHUB_WEBHOOK_SECRET": "s3cret"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_reads_the_environment_and_hides_secrets():
    settings = Settings.from_env(env(PORT="9000", DRY_RUN="true", GITHUB_API_URL="https://ghe.example.com/api/v3/"))
    assert (settings.app_id, settings.port, settings.dry_run) == ("12", 9000, True)
    assert settings.private_key.reveal().startswith("-----BEGIN PRIVATE KEY-----\n")
    assert settings.graphql_url == "https://ghe.example.com/api/graphql"
    assert Settings.from_env(env()).graphql_url == "https://api.github.com/graphql"
    # GitHub Enterprise Server (no hosted Arm runners) is told by its API URL; anything else is github.com.
    assert settings.ghes and not Settings.from_env(env()).ghes
    assert not Settings.from_env(env(GITHUB_API_URL="http://127.0.0.1:8123")).ghes
    for text in (repr(settings), str(settings), f"{settings.webhook_secret}"):
        assert "s3cret" not in text and "PRIVATE KEY" not in text
    with pytest.raises(TypeError):
        pickle.dumps(settings.webhook_secret)


def test_database_url_is_a_secret_and_optional():
    assert Settings.from_env(env()).database_url is None  # the embedded SQLite store
    settings = Settings.from_env(env(DATABASE_URL="postgresql://dbf:pa55word@db:5432/dbf"))
    assert settings.database_url.reveal() == "postgresql://dbf:pa55word@db:5432/dbf"
    assert "pa55word" not in repr(settings) and "pa55word" not in str(settings)


def test_key_from_a_file(tmp_path):
    path = tmp_path / "key.pem"
    path.write_text(KEY)
    assert Settings.from_env(env(GITHUB_PRIVATE_KEY=None, GITHUB_PRIVATE_KEY_PATH=str(path))).private_key == Secret(KEY)


@pytest.mark.parametrize("changes,message", [
    ({"GITHUB_WEBHOOK_SECRET": None}, "GITHUB_WEBHOOK_SECRET is not set"),
    ({"GITHUB_APP_ID": None}, "GITHUB_APP_ID is not set"),
    ({"GITHUB_PRIVATE_KEY": "nonsense"}, "does not hold a PEM private key"),
    ({"GITHUB_PRIVATE_KEY": None, "GITHUB_PRIVATE_KEY_PATH": "/nonexistent.pem"}, "cannot be read"),
    ({"PORT": "eighty"}, "must be numbers"),
    ({"DATABASE_URL": "mysql://db/app"}, "DATABASE_URL must be a postgresql:// URL"),
])
def test_refuses_to_start_with_one_clear_line(changes, message):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env(**changes))
    assert message in str(caught.value) and "\n" not in str(caught.value)
