# syntax=docker/dockerfile:1
# Shopcast image: the front-end is built in a throwaway Node stage, only its output
# reaches the Python runtime image.

FROM node:20-bookworm-slim AS frontend
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
COPY frontend/ frontend/
# The pages' words: the same catalogues the server reads, bundled into the scripts.
COPY shopcast/locales/ shopcast/locales/
# frontend/build.mjs (esbuild) writes shopcast/web/static/dist/.
RUN npm run build


FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed uid so a bind-mounted data folder can be chowned to it on the host.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/shopcast shopcast \
    && install -d -o shopcast -g shopcast /data

WORKDIR /src
COPY pyproject.toml README.md ./
COPY shopcast/ shopcast/
COPY --from=frontend /src/shopcast/web/static/dist/ shopcast/web/static/dist/
# uvloop: the event loop in C, which keeps a big room's chat and joins on time when its audience
# arrives all at once (docs/benchmarks.md, "The rush").
RUN pip install --no-cache-dir ".[uvloop]" && rm -rf build shopcast.egg-info

ENV SHOPCAST_DATA_DIR=/data \
    SHOPCAST_HOST=0.0.0.0 \
    SHOPCAST_EVENT_LOOP=uvloop
WORKDIR /data
USER shopcast
EXPOSE 8080

# /healthz answers 503 while the database or the bus is down; urlopen raises on it.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('SHOPCAST_PORT', '8080') + '/healthz', timeout=4)"]

# With SHOPCAST_REDIS_URL, one app process per core of the container (`--workers`, docs/operations.md);
# WebRTC's UDP ports are SHOPCAST_WEBRTC_PORTS, which compose.yaml publishes per replica.
CMD ["shopcast", "serve"]
