# syntax=docker/dockerfile:1
# Build stage: a virtual environment with Orchard's dependencies and Orchard itself.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/orchard/venv
ENV PATH=/opt/orchard/venv/bin:$PATH
WORKDIR /opt/orchard/src
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
COPY openapi ./openapi
# Editable, so Alembic finds migrations/ beside app/ exactly as in a checkout.
RUN pip install -e .

# Runtime stage: only the environment and the source, run as a non-root user.
FROM python:3.11-slim
ENV PATH=/opt/orchard/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    ORCHARD_DATA_DIR=/data \
    ORCHARD_LOG_FORMAT=json
RUN useradd --system --create-home --uid 10001 orchard \
    && mkdir /data && chown orchard /data
COPY --from=build /opt/orchard /opt/orchard
USER orchard
WORKDIR /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status != 200)"]
# With ORCHARD_DATABASE_URL set, migrate as a separate step (`docker run <image> orchard migrate`)
# before starting a new version: the container never migrates an external database at start.
# Without it, the embedded PostgreSQL in /data is started and migrated automatically.
CMD ["orchard", "serve", "--host", "0.0.0.0"]
