"""docker-compose.yml, the Dockerfile and the Procfile: what cannot run here (no Docker engine)
is checked for structure, against the Compose specification, and against the local stack."""

import ast
import json
import os
import re
import shlex
import stat
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DJANGO_SERVICES = {"release", "web", "ws", "worker", "beat"}
LONG_RUNNING_DJANGO = DJANGO_SERVICES - {"release"}


@pytest.fixture(scope="module")
def raw():
    return (ROOT / "docker-compose.yml").read_text()


@pytest.fixture(scope="module")
def compose(raw):
    return yaml.safe_load(raw)  # resolves the `<<: *django` merges, as compose does


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def procfile() -> dict[str, str]:
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = command.strip()
    return entries


def command_of(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else shlex.join(command)


def test_the_compose_file_follows_the_compose_specification(compose):
    # deploy/compose-spec.schema.json: the Compose specification's schema, as bundled by dclint
    # (npm), which `make lint-deploy` also runs.
    schema = json.loads((ROOT / "deploy" / "compose-spec.schema.json").read_text())
    jsonschema.Draft7Validator(schema).validate(compose)


def test_the_stack_has_its_services(services):
    assert set(services) == DJANGO_SERVICES | {"proxy", "postgres", "redis"}


def test_the_django_service_is_defined_once_and_reused(raw, services):
    assert re.search(r"^x-django: &django$", raw, re.MULTILINE)
    for name in DJANGO_SERVICES:
        block = re.search(rf"^  {name}:\n((?:    .*\n|\n)+)", raw, re.MULTILINE).group(1)
        assert "<<: *django" in block, name
    images = {services[name]["image"] for name in DJANGO_SERVICES}
    environments = {json.dumps(services[name]["environment"]) for name in DJANGO_SERVICES}
    assert len(images) == 1
    assert len(environments) == 1
    assert all(services[name]["env_file"] == ".env" for name in DJANGO_SERVICES)


def test_compose_and_the_procfile_run_the_same_commands(services):
    processes = procfile()
    from_compose = {
        name: command_of(service) for name, service in services.items() if "command" in service
    }
    from_compose = {name: command for name, command in from_compose.items() if name in processes}
    assert from_compose == processes
    assert set(processes) == DJANGO_SERVICES | {"proxy"}
    for command in processes.values():
        script = ROOT / command.split()[0]
        assert script.is_file(), script
        assert script.stat().st_mode & stat.S_IXUSR, f"{script} is not executable"


def test_the_procfile_is_valid_for_honcho():
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "honcho"), "check", "-f", "Procfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def test_only_the_proxy_publishes_a_port(services):
    publishing = {name for name, service in services.items() if service.get("ports")}
    assert publishing == {"proxy"}
    assert services["proxy"]["ports"] == ["0.0.0.0:${PROXY_PORT:-80}:80"]


def test_backing_services_have_healthchecks(services):
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")


def test_redis_needs_the_password_the_django_services_carry(services):
    # The cache is unpickled from Redis: an open Redis would run whatever a writer puts there.
    password = "${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}"
    command = services["redis"]["command"]
    assert command[command.index("--requirepass") + 1] == password
    assert services["redis"]["environment"]["REDISCLI_AUTH"] == password  # the healthcheck's
    assert services["web"]["environment"]["REDIS_URL"] == f"redis://default:{password}@redis:6379/0"


def test_long_running_processes_have_healthchecks_except_beat(services):
    for name in ("web", "ws"):
        test = services[name]["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "bin/healthcheck"]
        assert test[3].endswith("/health/")
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])
    # beat has nothing to probe; it is covered by `restart` instead.
    assert services["beat"]["healthcheck"] == {"disable": True}


def test_everything_waits_for_healthy_dependencies(services):
    for name in DJANGO_SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on["postgres"] == {"condition": "service_healthy"}, name
        assert depends_on["redis"] == {"condition": "service_healthy"}, name
    for name in LONG_RUNNING_DJANGO:
        assert services[name]["depends_on"]["release"] == {
            "condition": "service_completed_successfully"
        }, name
    assert services["proxy"]["depends_on"] == {
        "web": {"condition": "service_healthy"},
        "ws": {"condition": "service_healthy"},
    }


def test_migrations_run_once_in_the_release_service(services):
    assert services["release"]["command"] == ["bin/release"]
    assert services["release"]["restart"] == "no"
    assert "migrate" in (ROOT / "bin" / "release").read_text()
    assert "migrate" not in (ROOT / "bin" / "web").read_text()


def test_beat_runs_exactly_once(raw, services):
    assert services["beat"]["deploy"]["replicas"] == 1
    assert "EXACTLY ONE" in raw


def test_data_lives_in_named_volumes(compose, services):
    assert set(compose["volumes"]) == {"pgdata", "redisdata", "media", "backups", "beat"}
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "redisdata:/data" in services["redis"]["volumes"]
    for name in DJANGO_SERVICES:
        assert "media:/data/media" in services[name]["volumes"], name
    assert "media:/data/media:ro" in services["proxy"]["volumes"]
    assert services["web"]["environment"]["MEDIA_ROOT"] == "/data/media"
    # Backups beside the data they copy; beat's schedule outlives its container (issue 17).
    for name in DJANGO_SERVICES:
        assert "backups:/data/backups" in services[name]["volumes"], name
    assert services["web"]["environment"]["BACKUP_DIR"] == "/data/backups"
    assert "beat:/data/beat" in services["beat"]["volumes"]
    schedule = services["beat"]["environment"]["CELERY_BEAT_SCHEDULE_FILENAME"]
    assert schedule.startswith("/data/beat/")


def test_media_goes_through_the_proxys_internal_location(services):
    prefix = services["web"]["environment"]["MEDIA_ACCEL_REDIRECT_PREFIX"]
    template = (ROOT / "deploy" / "nginx.conf.template").read_text()
    location = re.search(rf"location {re.escape(prefix)} \{{(.*?)\}}", template, re.DOTALL)
    assert location, prefix
    assert "internal;" in location.group(1)


def _strings(node, key=""):
    """(the nearest key, value) for every scalar in the file."""
    if isinstance(node, dict):
        for child_key, value in node.items():
            yield from _strings(value, str(child_key))
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item, key)
    elif node is not None:
        yield key, str(node)


def test_no_secret_is_written_in_the_compose_file(compose, raw):
    for key, value in _strings(compose):
        if re.search(r"PASSWORD|SECRET|TOKEN|API_KEY", key):
            assert value.startswith("${"), f"{key}: a secret belongs in .env"
        # References to .env, such as ${POSTGRES_PASSWORD:?…}, are the only passwords allowed.
        referenced = re.sub(r"\$\{[^}]*\}", "$REF", value)
        for password in re.findall(r"://[^:/@\s]+:([^@\s]+)@", referenced):
            assert password == "$REF", f"a password in a URL: {value}"
    assert "DJANGO_SECRET_KEY" not in raw


def test_every_variable_the_compose_file_reads_is_in_env_example(raw):
    example = (ROOT / ".env.example").read_text()
    names = set(re.findall(r"(?<!\$)\$\{([A-Z_]+)", raw))
    assert names >= {"POSTGRES_PASSWORD", "PROXY_PORT"}
    for name in names:
        assert re.search(rf"^{name}=", example, re.MULTILINE), f"{name} missing in .env.example"
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


# --- The Dockerfile -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dockerfile():
    return (ROOT / "Dockerfile").read_text()


def _stages(dockerfile) -> dict[str, str]:
    parts = re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)[1:]
    return {part.split(" AS ")[1].split()[0]: "FROM " + part for part in parts}


def test_the_dockerfile_builds_in_stages_from_slim_python_313(dockerfile, services):
    stages = _stages(dockerfile)
    assert list(stages) == ["build", "app", "proxy"]
    assert "ARG PYTHON_IMAGE=python:3.13-slim" in dockerfile
    assert stages["build"].startswith("FROM ${PYTHON_IMAGE} AS build")
    assert stages["app"].startswith("FROM ${PYTHON_IMAGE} AS app")
    assert stages["proxy"].startswith("FROM nginx:")
    # compose builds the stages that exist
    assert {services[name]["build"]["target"] for name in DJANGO_SERVICES} == {"app"}
    assert services["proxy"]["build"]["target"] == "proxy"


def test_the_image_installs_the_locked_dependencies_without_dev(dockerfile):
    assert "uv sync --locked --no-dev" in dockerfile
    assert "COPY pyproject.toml uv.lock" in dockerfile


def test_static_files_are_collected_at_build_with_a_throwaway_secret(dockerfile):
    stages = _stages(dockerfile)
    assert "manage.py collectstatic" in stages["build"]
    # The dummy key is set for the one RUN, never as ENV or ARG (both persist in the image).
    assert not re.search(r"^(ENV|ARG)\b[^\n]*SECRET", dockerfile, re.MULTILINE)
    assert "COPY --from=build /app/staticfiles" in stages["proxy"]


def test_the_app_runs_as_a_non_root_user_with_a_healthcheck(dockerfile):
    app = _stages(dockerfile)["app"]
    user = re.search(r"^USER (\S+)", app, re.MULTILINE).group(1)
    assert user.split(":")[0] not in ("root", "0")
    assert 'CMD ["python", "bin/healthcheck"]' in app
    assert 'CMD ["bin/web"]' in app


def test_the_build_context_leaves_out_secrets_and_local_state():
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for entry in (".env", ".git", ".venv", "var"):
        assert entry in ignored


# The build context as `docker build` sends it (no engine here): .dockerignore's rules, where the
# last pattern that matches a path or one of its folders decides and `!` keeps.
def _dockerignore_regex(pattern: str) -> re.Pattern:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] in "*?":
            out, i = out + ("[^/]*" if pattern[i] == "*" else "[^/]"), i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


@pytest.fixture(scope="module")
def shipped() -> set[str]:
    """The files of the checkout that the build context keeps."""
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            pattern = line.lstrip("!").strip("/")
            rules.append((line.startswith("!"), pattern, _dockerignore_regex(pattern)))

    def ignored(path: str) -> bool:
        parents = ["/".join(path.split("/")[: n + 1]) for n in range(path.count("/") + 1)]
        verdict = False
        for keep, _, regex in rules:
            if any(regex.match(parent) for parent in parents):
                verdict = not keep
        return verdict

    # An ignored folder can hold a kept file only if a `!` rule reaches below the top level.
    deep_keeps = any(keep and ("/" in pattern or "**" in pattern) for keep, pattern, _ in rules)
    kept = set()
    for folder, dirs, files in os.walk(ROOT):
        base = Path(folder).relative_to(ROOT).as_posix()
        prefix = "" if base == "." else base + "/"
        dirs[:] = [d for d in dirs if deep_keeps or not ignored(prefix + d)]
        kept |= {prefix + name for name in files if not ignored(prefix + name)}
    return kept


DEV_ONLY = {
    "core/testing.py",
    "mini_crm/settings_test.py",
    "Makefile",
    "Procfile",
    "bin/stack",
    "bin/install-system-deps",
    "bin/backup-roundtrip",
    "bin/screenshots",
    "deploy/compose-spec.schema.json",
    ".env",
    ".env.example",
    ".dclintrc.yaml",
}


def test_the_image_ships_no_tests_bench_or_development_files(shipped):
    # The checkout has each kind, so an empty list below means they are left out.
    for path in ("conftest.py", "core/testing.py", "bench/run.py", "clients/tests/__init__.py"):
        assert (ROOT / path).is_file(), path
    leaks = [
        path
        for path in shipped
        if "tests" in path.split("/")[:-1]
        or path.split("/")[-1] == "conftest.py"
        or path.split("/")[0] in {"bench", "docs", ".ci", ".venv", "var", ".git"}
        or path in DEV_ONLY
    ]
    assert sorted(leaks) == []


def test_the_image_ships_what_production_runs(shipped, services):
    commands = [command_of(service) for service in services.values() if "command" in service]
    needed = {"manage.py", "pyproject.toml", "uv.lock", ".python-version", "README.md"}
    needed |= {f"mini_crm/{name}.py" for name in ("settings", "urls", "wsgi", "asgi", "celery")}
    needed |= {"bin/healthcheck", "deploy/nginx.conf.template", "deploy/logging.json"}
    needed |= {command.split()[0] for command in commands if command.startswith("bin/")}
    assert "bin/web" in needed
    assert sorted(needed - shipped) == []


def test_what_the_image_ships_imports_nothing_it_leaves_out(shipped):
    """A shipped module that imports a test helper or the bench would fail in production only."""
    local = {path.name for path in ROOT.iterdir() if (path / "__init__.py").is_file()}
    assert {"bench", "core", "clients"} <= local

    def files(module: str) -> set[str]:
        stem = module.replace(".", "/")
        return {name for name in (f"{stem}.py", f"{stem}/__init__.py") if (ROOT / name).is_file()}

    missing = []
    for path in sorted(p for p in shipped if p.endswith(".py")):
        modules = set()
        for node in ast.walk(ast.parse((ROOT / path).read_text(), path)):
            if isinstance(node, ast.Import):
                modules |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif (
                # Dotted paths Django imports: apps, middleware, backends, formatters.
                path == "mini_crm/settings.py"
                and isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.fullmatch(r"\w+(\.\w+)+", node.value)
            ):
                parts = node.value.split(".")
                modules |= {".".join(parts[:n]) for n in range(1, len(parts) + 1)}
        for module in modules:
            if module.split(".")[0] in local and files(module) - shipped:
                missing.append(f"{path} imports {module}")
    assert missing == []
