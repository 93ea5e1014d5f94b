# Laurel: one process serving GraphQL on :8000.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite:///data/laurel.sqlite3

RUN useradd --create-home --uid 10001 laurel \
    && mkdir -p /data && chown laurel:laurel /data

WORKDIR /srv/laurel
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --no-compile .

USER laurel
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"

CMD ["laurel", "serve", "--host", "0.0.0.0", "--port", "8000"]
