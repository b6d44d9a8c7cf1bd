# docker-build-fixer: the GitHub App. One image for both processes:
#   web:    python -m bot serve   (the default command)
#   worker: python -m bot worker  (with DATABASE_URL=postgresql://...)
FROM python:3.12-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md app.yml ./
COPY bot ./bot
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir .

FROM python:3.12-slim-bookworm
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --create-home --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PORT=8080 \
    STATE_PATH=/data/docker-build-fixer.sqlite3
USER 10001:10001
WORKDIR /data
# The embedded SQLite store lives here when DATABASE_URL is not set: mount a volume on it.
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=4)"]
CMD ["python", "-m", "bot", "serve"]
