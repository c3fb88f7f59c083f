# The production image: gunicorn for the web, the same image for the Celery worker and beat.
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY static/scss static/scss
RUN npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=config.settings.production
# WeasyPrint needs Pango; libpq comes with psycopg's binary wheel.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    fonts-liberation && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
# Everything but .dockerignore's list: no development tooling (devtools/, loadtest/).
COPY . .
COPY --from=assets /app/static/build static/build
COPY --from=assets /app/node_modules/govuk-frontend/dist/govuk node_modules/govuk-frontend/dist/govuk
RUN SECRET_KEY=build-only ALLOWED_HOSTS=localhost DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    REDIS_URL=redis://localhost:6379/0 SITE_URL=https://localhost SECURITY_ALERTS_EMAIL=build-only@localhost \
    DISPOSAL_REGISTER_PATH=/tmp/build-register.jsonl \
    python manage.py collectstatic --no-input -v 0
RUN useradd --system --uid 1000 mash && mkdir -p /app/var && chown mash /app/var
USER mash
EXPOSE 8000
# Bind address, workers, no access log and a scrubbed error log: config/gunicorn.py (a name
# search is a query string, and nothing gunicorn writes may carry one).
CMD ["gunicorn", "config.wsgi", "--config", "python:config.gunicorn"]
