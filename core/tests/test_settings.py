"""The settings fail loudly in production and pass Django's deployment checklist."""

import pytest

from core.tests.support import PRODUCTION_ENV, manage


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
