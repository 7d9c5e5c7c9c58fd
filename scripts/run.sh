#!/usr/bin/env bash
# `make run`: set up, then start Redis, the action server, Rasa and the Kefu service in the
# foreground. Ctrl-C stops every process this script started.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash scripts/setup.sh

export KEFU_SECRET_KEY="${KEFU_SECRET_KEY:-$(cat "$VAR/secret_key")}"
export KEFU_RASA_TOKEN="${KEFU_RASA_TOKEN:-$(cat "$VAR/rasa_token")}"
export KEFU_ACTIONS_SECRET="${KEFU_ACTIONS_SECRET:-$(cat "$VAR/actions_secret")}"
export KEFU_PORT="${KEFU_PORT:-8080}" RASA_PORT="${RASA_PORT:-5005}" ACTIONS_PORT="${ACTIONS_PORT:-5055}"
export KEFU_REDIS_PORT="${KEFU_REDIS_PORT:-6390}"
export DATABASE_URL="${DATABASE_URL:-sqlite:///$VAR/kefu.db}"
export KEFU_KNOWLEDGE_DIR="${KEFU_KNOWLEDGE_DIR:-$VAR/knowledge}"
LOGS="$VAR/log"
PIDS=()

cleanup() {
  trap - INT TERM EXIT
  say "stopping"
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  exit 0
}
trap cleanup INT TERM EXIT

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_http() {  # wait_http NAME URL SECONDS LOGFILE
  local name=$1 url=$2 limit=$3 log=$4 i
  for ((i = 0; i < limit; i++)); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && { echo "    $name is up"; return 0; }
    (( i % 10 == 9 )) && echo "    waiting for $name ($((i + 1))s)..."
    sleep 1
  done
  tail -n 30 "$log" >&2; die "$name did not come up within ${limit}s (log: $log)"
}

if [ -z "${REDIS_URL:-}" ]; then
  export REDIS_URL="redis://127.0.0.1:$KEFU_REDIS_PORT/0"
  if port_open "$KEFU_REDIS_PORT"; then
    die "port $KEFU_REDIS_PORT is taken; stop the old process or set KEFU_REDIS_PORT / REDIS_URL"
  fi
  mkdir -p "$VAR/redis"
  say "starting Redis on 127.0.0.1:$KEFU_REDIS_PORT (data in var/redis, append-only file on)"
  redis-server --port "$KEFU_REDIS_PORT" --bind 127.0.0.1 --dir "$VAR/redis" --appendonly yes \
    --appendfsync everysec --daemonize no > "$LOGS/redis.log" 2>&1 &
  PIDS+=($!)
fi
REDIS_HOSTPORT="${REDIS_URL#redis://}"; REDIS_HOSTPORT="${REDIS_HOSTPORT%%/*}"
export REDIS_HOST="${REDIS_HOSTPORT%%:*}" REDIS_PORT="${REDIS_HOSTPORT##*:}" REDIS_DB="${REDIS_DB:-1}"

say "starting the action server on 127.0.0.1:$ACTIONS_PORT (${ACTIONS_WORKERS:-1} worker(s))"
ACTION_SERVER_SANIC_WORKERS="${ACTIONS_WORKERS:-1}" .venv/bin/python -m service.action_server > "$LOGS/actions.log" 2>&1 &
PIDS+=($!)

# Rasa worker processes share conversations through the Redis tracker and lock stores.
say "starting Rasa on 127.0.0.1:$RASA_PORT (${RASA_WORKERS:-2} worker(s))"
export ACTION_ENDPOINT_URL="http://127.0.0.1:$ACTIONS_PORT/webhook"
SANIC_WORKERS="${RASA_WORKERS:-2}" .venv-rasa/bin/rasa run --enable-api --auth-token "$KEFU_RASA_TOKEN" \
  -i 127.0.0.1 -p "$RASA_PORT" -m bot/models --endpoints bot/endpoints.yml --credentials bot/credentials.yml \
  > "$LOGS/rasa.log" 2>&1 &
PIDS+=($!)

say "starting the Kefu service on ${KEFU_HOST:-127.0.0.1}:$KEFU_PORT"
.venv/bin/python -m service > "$LOGS/service.log" 2>&1 &
PIDS+=($!)

wait_http "action server" "http://127.0.0.1:$ACTIONS_PORT/health" 120 "$LOGS/actions.log"
wait_http "Rasa" "http://127.0.0.1:$RASA_PORT/status?token=$KEFU_RASA_TOKEN" 240 "$LOGS/rasa.log"
wait_http "Kefu service" "http://127.0.0.1:$KEFU_PORT/healthz" 120 "$LOGS/service.log"

cat <<MSG

  Kefu is running.
    Customer web widget   http://127.0.0.1:$KEFU_PORT/
    Agent console         http://127.0.0.1:$KEFU_PORT/console
    Knowledge editor      http://127.0.0.1:$KEFU_PORT/editor
    Supervisor dashboard  http://127.0.0.1:$KEFU_PORT/supervisor
    API reference         http://127.0.0.1:$KEFU_PORT/api/docs
    Health                http://127.0.0.1:$KEFU_PORT/healthz
    Rasa (internal)       http://127.0.0.1:$RASA_PORT/status?token=<var/rasa_token>
    Action server         http://127.0.0.1:$ACTIONS_PORT/health
  Logs in var/log/. Press Ctrl-C to stop everything.

MSG
[ -f "$VAR/demo_credentials.txt" ] && { echo "  Demo staff accounts:"; sed 's/^/    /' "$VAR/demo_credentials.txt"; echo; }
while true; do
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || { warn "a process (pid $pid) exited; see var/log/"; cleanup; }
  done
  sleep 2
done
