#!/usr/bin/env bash
# `make test`: install what the tests need, then run every test (unit, integration, browser).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash scripts/setup.sh --test
say "running the tests"
export KEFU_CHROMIUM="${KEFU_CHROMIUM:-$(command -v chromium || true)}"
.venv/bin/python -m pytest "$@"
