"""The settings fail loudly in production and pass Django's deployment checklist."""

import pytest

from core.tests.support import PRODUCTION_ENV, ROOT, manage


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"])
def test_production_without_secret_or_hosts_refuses_to_start(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = manage("check", env_overrides=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{missing} must be set" in result.stderr


def test_debug_is_off_unless_asked_for():
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
        env_overrides={k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_DEBUG"},
    )
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


def test_deploy_check_passes_with_a_production_environment():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_malformed_boolean_is_an_error_not_a_guess():
    result = manage("check", env_overrides={**PRODUCTION_ENV, "DJANGO_DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DJANGO_DEBUG='maybe' is not a boolean" in result.stderr


def test_debug_toolbar_is_for_development_only(settings):
    assert "debug_toolbar" not in settings.INSTALLED_APPS  # tests
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print('debug_toolbar' in settings.INSTALLED_APPS)",
        env_overrides=PRODUCTION_ENV,
    )
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


@pytest.mark.parametrize(
    ("redis_url", "engine"),
    [
        ("redis://127.0.0.1:6379/0", "django.contrib.sessions.backends.cached_db"),
        # Each process has its own local-memory cache: a logout in one would not reach the
        # others, so sessions are read from the database.
        ("", "django.contrib.sessions.backends.db"),
    ],
)
def test_sessions_are_cached_only_in_a_cache_every_process_shares(redis_url, engine):
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SESSION_ENGINE)",
        env_overrides={"DJANGO_DEBUG": "1", "REDIS_URL": redis_url},
    )
    assert result.stdout.strip().splitlines()[-1] == engine, result.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        # .env.example's placeholder, copied as is.
        ({"DJANGO_SECRET_KEY": "change-me-to-a-long-random-string"}, "DJANGO_SECRET_KEY must be"),
        ({"DJANGO_SECRET_KEY": "change-me" + "x" * 60}, "DJANGO_SECRET_KEY must be"),
        ({"DJANGO_SECRET_KEY": "k" * 49}, "at least 50 characters"),
        (
            {"DATABASE_URL": "postgres://crm:change-me-too@127.0.0.1:5432/crm"},
            "DATABASE_URL carries the .env.example placeholder password",
        ),
        (
            {"REDIS_URL": "redis://default:change-me-as-well@127.0.0.1:6379/0"},
            "REDIS_URL carries the .env.example placeholder password",
        ),
    ],
    ids=["placeholder-key", "change-me-key", "short-key", "database-password", "redis-password"],
)
def test_production_refuses_placeholder_secrets(overrides, message):
    result = manage("check", env_overrides={**PRODUCTION_ENV, **overrides})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_development_accepts_the_placeholders():
    env = {
        "DJANGO_DEBUG": "1",
        "DJANGO_SECRET_KEY": "change-me-to-a-long-random-string",
        "DATABASE_URL": "postgres://crm:change-me-too@127.0.0.1:5432/crm",
    }
    result = manage("shell", "-c", "print('started')", env_overrides=env)
    assert result.stdout.strip().splitlines()[-1] == "started", result.stderr


def test_a_fifty_character_key_and_real_passwords_start():
    env = {
        **PRODUCTION_ENV,
        "DJANGO_SECRET_KEY": "k" * 50,
        "DATABASE_URL": "postgres://crm:s3cret@127.0.0.1:5432/crm",
        "REDIS_URL": "redis://default:s3cret@127.0.0.1:6379/0",
    }
    result = manage("check", env_overrides=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_env_example_placeholders_are_what_production_refuses():
    example = (ROOT / ".env.example").read_text()
    assert "DJANGO_SECRET_KEY=change-me" in example
    assert "POSTGRES_PASSWORD=change-me" in example
    assert "REDIS_PASSWORD=change-me" in example


def test_the_test_settings_key_is_long_enough(settings):
    assert len(settings.SECRET_KEY) >= 50
