# One image, two roles: `docker run IMAGE web` (gunicorn) or `docker run IMAGE worker` (RQ).
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN groupadd --system defuse && useradd --system --gid defuse --home /app defuse

COPY pyproject.toml README.md LICENSE ./
COPY service ./service
# The page translations are compiled here (their .mo files are not kept in git).
RUN pip install "babel>=2.14" && pybabel -q compile -d service/translations && pip install .

COPY gunicorn.conf.py ./
COPY rules ./rules
COPY guides ./guides
COPY models ./models
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh && mkdir -p /app/instance && chown defuse:defuse /app/instance

ENV DEFUSE_ENV=production \
    DEFUSE_RULES_DIR=/app/rules \
    DEFUSE_GUIDES_DIR=/app/guides \
    DEFUSE_MODELS_DIR=/app/models

USER defuse
EXPOSE 8000
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["web"]
