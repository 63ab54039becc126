# The analyzer (gunicorn, gthread workers) and its worker (`ai-logs worker`) share this image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/ai-logs-metrics \
    AI_LOGS_DATA_DIR=/var/lib/ai-logs

WORKDIR /app
COPY pyproject.toml README.md ./
COPY analyzer ./analyzer
RUN pip install . \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin ailogs \
    && mkdir -p "$PROMETHEUS_MULTIPROC_DIR" "$AI_LOGS_DATA_DIR" /run/ai-logs \
    && chown ailogs:ailogs "$PROMETHEUS_MULTIPROC_DIR" "$AI_LOGS_DATA_DIR" /run/ai-logs

USER ailogs
EXPOSE 8080

# slim has no curl: check health with the interpreter that is already there.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=3)"]

# the SQLite spool, results and pattern registry live here when Redis is down or absent;
# /run/ai-logs receives the Grafana token (compose's grafana-token job writes it as this user)
VOLUME ["/var/lib/ai-logs"]

CMD ["gunicorn", "-c", "python:analyzer.gunicorn_conf", "analyzer.app:create_app()"]
