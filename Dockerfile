# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORTAL_VAR_DIR=/var/lib/portal

RUN groupadd --system portal && useradd --system --gid portal --home /app portal
WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p portal accounts offers crm routing evaluation governance \
    && touch portal/__init__.py accounts/__init__.py offers/__init__.py crm/__init__.py \
       routing/__init__.py evaluation/__init__.py governance/__init__.py \
    && pip install --config-settings editable_mode=compat -e .

COPY . .
# collectstatic needs settings, not services: placeholder values that are never used to connect.
RUN DEBUG=false SECRET_KEY=build-only-placeholder-that-is-long-enough-for-the-settings-check-0123 \
    DATABASE_URL=postgresql://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /var/lib/portal && chown portal:portal /var/lib/portal

USER portal
EXPOSE 8000
# No --forwarded-allow-ips "*": which proxies are believed (X-Forwarded-For, X-Forwarded-Proto) is
# decided by the portal from TRUSTED_PROXIES, not by gunicorn for anyone who sends the header.
# Worker model and counts (WEB_WORKER_CLASS, WEB_CONCURRENCY, WEB_THREADS, WEB_KEEPALIVE):
# gunicorn.conf.py, which says why.
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000", \
     "--access-logformat", "%(t)s \"%(m)s\" %(s)s %(b)s %(M)sms"]
