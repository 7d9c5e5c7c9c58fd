#!/usr/bin/env bash
# Idempotent setup. Installs only what is missing or changed; every step says what it does.
#   scripts/setup.sh          what `make run` needs
#   scripts/setup.sh --test   plus what the tests need (Chromium, PostgreSQL)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
FOR_TESTS=0; [ "${1:-}" = "--test" ] && FOR_TESTS=1
PIP_FLAGS=(--disable-pip-version-check --no-input)
[ -d /opt/wheels ] && PIP_FLAGS+=(--find-links /opt/wheels)

say "[1/7] system packages"
pkgs=()
[ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null && pkgs+=(redis-server)
if [ $FOR_TESTS = 1 ]; then
  command -v chromium >/dev/null || pkgs+=(chromium)
  # a Chinese font, so the browser tests' screenshots (docs/screenshots/) show Chinese text
  fc-list :lang=zh 2>/dev/null | grep -q . || pkgs+=(fonts-wqy-microhei)
  compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || pkgs+=(postgresql)
fi
[ ${#pkgs[@]} -gt 0 ] && apt_install "${pkgs[@]}"

say "[2/7] main Python env (.venv, Python 3.11)"
if ! stamp_ok main-env requirements/main.lock pyproject.toml || [ ! -x .venv/bin/python ]; then
  PY311=$(find_python 3.11) || die "Python 3.11 not found (install it, e.g. with pyenv)"
  [ -x .venv/bin/python ] || "$PY311" -m venv .venv
  .venv/bin/pip install "${PIP_FLAGS[@]}" --upgrade "pip==26.3" wheel setuptools
  .venv/bin/pip install "${PIP_FLAGS[@]}" --no-deps -r requirements/main.lock
  .venv/bin/pip install "${PIP_FLAGS[@]}" --no-deps --no-build-isolation -e .
  stamp_set main-env requirements/main.lock pyproject.toml
else
  echo "    up to date"
fi

say "[3/7] Rasa env (.venv-rasa, Python 3.10, Rasa Open Source 3.6)"
if ! stamp_ok rasa-env requirements/rasa.lock || [ ! -x .venv-rasa/bin/rasa ]; then
  PY310=$(find_python 3.10) || die "Python 3.10 not found (Rasa 3.6 needs <=3.10; install it with pyenv)"
  [ -x .venv-rasa/bin/python ] || "$PY310" -m venv .venv-rasa
  .venv-rasa/bin/pip install "${PIP_FLAGS[@]}" --upgrade "pip==26.3" wheel
  .venv-rasa/bin/pip install "${PIP_FLAGS[@]}" --no-deps -r requirements/rasa.lock
  stamp_set rasa-env requirements/rasa.lock
else
  echo "    up to date"
fi

say "[4/7] Rasa model (trained only when bot/ or config.yml changed)"
bash scripts/train-bot.sh

say "[4b/7] staff pages (web/: npm ci when the lock changed, vite build when a source changed)"
command -v npm >/dev/null || apt_install nodejs npm
if ! stamp_ok web-deps web/package-lock.json || [ ! -d web/node_modules ]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
  stamp_set web-deps web/package-lock.json
fi
WEB_SOURCES=(web/package-lock.json web/vite.config.js $(find web/src web/console web/editor web/supervisor -type f | sort))
if ! stamp_ok web-build "${WEB_SOURCES[@]}" || [ ! -f web/dist/console/index.html ]; then
  (cd web && npm run --silent build -- --logLevel warn)
  stamp_set web-build "${WEB_SOURCES[@]}"
else
  echo "    up to date"
fi

if [ $FOR_TESTS = 1 ]; then
  say "[5/7] test tools ready (Chromium $(chromium --version 2>/dev/null | awk '{print $2}'))"
  echo "    tests make their own databases, Redis servers and knowledge indexes"
  exit 0
fi

say "[5/7] secrets and database"
for name in secret_key rasa_token actions_secret; do  # the service's, Rasa's API, the action server's
  [ -s "$VAR/$name" ] || (umask 077; .venv/bin/python -c "import secrets; print(secrets.token_urlsafe(32))" > "$VAR/$name")
done
export KEFU_SECRET_KEY="${KEFU_SECRET_KEY:-$(cat "$VAR/secret_key")}"
.venv/bin/kefu db upgrade

say "[6/7] demo data (only into an empty database)"
.venv/bin/kefu demo load --if-empty

say "[7/7] knowledge index (published when none is current)"
.venv/bin/kefu knowledge publish --if-missing
