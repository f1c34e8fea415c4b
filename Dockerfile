# syntax=docker/dockerfile:1
# One image for every Django process (web, ws, worker, beat, release: the scripts in bin/) and a
# small nginx image (target `proxy`) that carries the collected static files and our config.
#   docker build -t mini-crm .                  (the app)
#   docker build -t mini-crm-proxy --target proxy .
# docker-compose.yml builds both. No secret is baked in: configuration comes from the
# environment at run time (.env.example lists every name).

ARG PYTHON_IMAGE=python:3.13-slim-bookworm

# --- build: the locked dependencies into /app/.venv, then the static files -------------------
FROM ${PYTHON_IMAGE} AS build
ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
# The uv version the Makefile pins.
RUN pip install --no-cache-dir uv==0.13.9
# gettext's msgfmt compiles the translations (the .mo files are not in git); the build stage
# only: the app image takes the compiled files, not the tool.
RUN apt-get update \
    && apt-get install -y --no-install-recommends "gettext=0.21-*" \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Dependencies first, from the lock file alone: this layer survives code changes.
COPY pyproject.toml uv.lock .python-version ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-install-project --python /usr/local/bin/python
# The code as .dockerignore trims it: no tests, bench, docs or development files.
COPY . .
# collectstatic and compilemessages (each app's locale/*.po into the .mo files Django reads)
# import the settings, which insist on a secret key of 50+ characters with DEBUG off: a dummy
# one, set for these commands only (not ENV), so it is in no layer's environment of the final
# image.
RUN export DJANGO_SECRET_KEY=collectstatic-only-this-build-step-signs-nothing-not-a-secret \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    STATIC_ROOT=/app/staticfiles \
    && /app/.venv/bin/python manage.py compilemessages --ignore .venv -v 0 \
    && /app/.venv/bin/python manage.py collectstatic --noinput -v 0 \
    && rm -rf /app/var

# --- app: web, ws, worker, beat and release ---------------------------------------------------
FROM ${PYTHON_IMAGE} AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/app/.venv/bin:$PATH \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/data/media \
    CELERY_BEAT_SCHEDULE_FILENAME=/tmp/celerybeat-schedule
# pg_dump and pg_restore for `manage.py backup` and `restore` (backups/): compose runs
# PostgreSQL 17 and pg_dump refuses a server newer than itself, while bookworm ships 15, so the
# client (no server) comes from PostgreSQL's own apt repository, signed by its published key.
ARG PG_MAJOR=17
ADD --chmod=644 https://www.postgresql.org/media/keys/ACCC4CF8.asc /usr/share/keyrings/pgdg.asc
RUN echo "deb [signed-by=/usr/share/keyrings/pgdg.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" \
        > /etc/apt/sources.list.d/pgdg.list \
    && apt-get update \
    && apt-get install -y --no-install-recommends "postgresql-client-${PG_MAJOR}=${PG_MAJOR}.*" \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 crm \
    && useradd --system --uid 10001 --gid crm --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin crm \
    && mkdir -p /data/media /data/backups \
    && chown crm:crm /data/media /data/backups
WORKDIR /app
# The code stays root-owned and read-only for the app user; it writes only /data/media,
# /data/backups (a new named volume takes the folder's owner) and /tmp.
COPY --from=build /app /app
USER 10001:10001
VOLUME ["/data/media", "/data/backups"]
EXPOSE 8000 8001
# /health/ answers without the database; bin/healthcheck sends an allowed Host header. The ws
# service checks its own port, the worker pings Celery (see docker-compose.yml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "bin/healthcheck"]
CMD ["bin/web"]

# --- proxy: nginx with our config and the static files -----------------------------------------
FROM nginx:1.28-bookworm AS proxy
ENV STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/data/media \
    PROXY_USER=nginx \
    PROXY_RUNTIME_DIR=/tmp/nginx \
    WEB_UPSTREAM=web:8000 \
    WS_UPSTREAM=ws:8001 \
    PROXY_LISTEN=80
WORKDIR /app
COPY bin/proxy bin/proxy
COPY deploy/nginx.conf.template deploy/nginx.conf.template
COPY --from=build /app/staticfiles /app/staticfiles
EXPOSE 80
# nginx itself answers /proxy-health (no upstream involved); bash's /dev/tcp needs no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PROXY_LISTEN##*:} && printf 'GET /proxy-health HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
CMD ["bin/proxy"]
