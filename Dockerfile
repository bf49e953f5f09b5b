# factline, as README "Running in production" describes it. Not built here: this project's machines
# have no container runtime and cannot pull base images.
#   docker build -t factline .
#   docker run -p 8000:8000 -e FACTLINE_DATABASE_URL=postgresql+asyncpg://… -e FACTLINE_LLM_BASE_URL=… \
#     -e FACTLINE_BATCH_WORKERS_IN_PROCESS=false factline          # HTTP, FACTLINE_WEB_PROCESSES of them
#   docker run -e FACTLINE_DATABASE_URL=… -e FACTLINE_LLM_BASE_URL=… factline factline worker
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FACTLINE_HOST=0.0.0.0 \
    FACTLINE_PORT=8000 \
    FACTLINE_LOCAL_MODEL=none \
    FACTLINE_WEB_PROCESSES=2 \
    FORWARDED_ALLOW_IPS=* \
    PROMETHEUS_MULTIPROC_DIR=/tmp/factline-metrics

WORKDIR /app
COPY pyproject.toml README.md ./
COPY api ./api
COPY factline ./factline
COPY prompts ./prompts
COPY schemas ./schemas
RUN pip install . && useradd --system --uid 10001 --no-create-home factline

USER factline
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"

# FACTLINE_WEB_PROCESSES HTTP processes (uvicorn reads FORWARDED_ALLOW_IPS: behind the platform's
# proxy, X-Forwarded-For is the client); the metrics directory must start empty.
CMD ["sh", "-c", "rm -rf \"$PROMETHEUS_MULTIPROC_DIR\" && mkdir -p \"$PROMETHEUS_MULTIPROC_DIR\" && exec factline serve"]
