# One inapp-engine worker: `docker build -t inapp-engine .`, then see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# only what the package needs (.dockerignore keeps the rest of the tree out)
COPY pyproject.toml README.md ./
COPY rules ./rules
COPY topics ./topics
COPY engine ./engine
RUN pip install '.[rocksdb]' \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/inapp --create-home inapp

USER inapp
WORKDIR /var/lib/inapp
ENV INAPP_DATA_DIR=/var/lib/inapp \
    INAPP_WEB_BIND=0.0.0.0 \
    INAPP_WEB_PORT=6066
VOLUME ["/var/lib/inapp"]
EXPOSE 6066
CMD ["inapp", "worker"]
