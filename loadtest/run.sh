#!/usr/bin/env bash
# make loadtest: a production-shaped run on this machine, bounded in time.
#   PostgreSQL (DATABASE_URL, default mash_load on 127.0.0.1:5432, seeded once and kept),
#   Redis (REDIS_URL, default db 6 on 127.0.0.1:6379), a Celery worker, gunicorn with
#   production settings on a free port, and locust (headless, time-limited) from a second
#   process on loopback. Figures go to var/loadtest/ and are summarised by loadtest/report.py.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export VAR_DIR="${VAR_DIR:-$PWD/var}"
OUT="$VAR_DIR/loadtest"
mkdir -p "$OUT"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/mash_load}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/6}"
export DJANGO_SETTINGS_MODULE=config.settings.production
export SECRET_KEY="${SECRET_KEY:-loadtest-$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')}"
export ALLOWED_HOSTS=127.0.0.1
export SITE_URL="${SITE_URL:-https://127.0.0.1}"
export SECURITY_ALERTS_EMAIL="${SECURITY_ALERTS_EMAIL:-ig-team@127.0.0.1}"
export DISPOSAL_REGISTER_PATH="${DISPOSAL_REGISTER_PATH:-$OUT/disposal-register.jsonl}"
export EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend
export LOG_LEVEL=WARNING
WORKERS="${WORKERS:-3}"
USERS="${USERS:-24}"
DURATION="${DURATION:-90s}"
PORT="${PORT:-$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"

db="${DATABASE_URL##*/}"
psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='$db'" | grep -q 1 \
  || createdb -h 127.0.0.1 -U postgres "$db"
# Seeding and the sessions come from devtools, which production settings do not install: the
# preparation runs with local settings on the same database and SECRET_KEY (the sessions are
# signed with it), without DEBUG, writing the cookie names the production server reads.
read -r SESSION_COOKIE CSRF_COOKIE < <($PY -c 'import django; django.setup()
from django.conf import settings as s; print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME)')
DJANGO_SETTINGS_MODULE=config.settings.local DEBUG=false $PY manage.py loadtest_prepare \
  --out "$OUT/sessions.json" --session-cookie "$SESSION_COOKIE" --csrf-cookie "$CSRF_COOKIE"
$PY manage.py collectstatic --no-input -v 0

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
.venv/bin/celery -A config worker --loglevel=WARNING --concurrency=1 >"$OUT/worker.log" 2>&1 &
pids+=($!)
.venv/bin/gunicorn config.wsgi --bind "127.0.0.1:$PORT" --workers "$WORKERS" \
  --access-logfile "$OUT/access.log" --error-logfile "$OUT/gunicorn.log" &
pids+=($!)
for _ in $(seq 1 60); do curl -s -o /dev/null "http://127.0.0.1:$PORT/sign-in/" -H 'X-Forwarded-Proto: https' && break; sleep 0.5; done

echo "gunicorn: $WORKERS workers on 127.0.0.1:$PORT; locust: $USERS users for $DURATION"
LOADTEST_SESSIONS="$OUT/sessions.json" .venv/bin/locust -f loadtest/locustfile.py --headless \
  --users "$USERS" --spawn-rate "$USERS" --run-time "$DURATION" --host "http://127.0.0.1:$PORT" \
  --csv "$OUT/run" --only-summary --stop-timeout 10 >"$OUT/locust.log" 2>&1 || true
$PY loadtest/report.py "$OUT/run_stats.csv" "$OUT/run_failures.csv" \
  --context "gunicorn $WORKERS workers, locust $USERS users, $DURATION, $(nproc) cores"
