#!/usr/bin/env bash
# Train the Rasa model into bot/models/kefu.tar.gz, only when the bot's inputs changed.
# Inputs: config.yml, bot/domain.yml, bot/data/*.yml. Their hash is stored next to the model
# (bot/models/kefu.inputs.sha256); an unchanged hash with the model present skips training.
# Prints the model path on the last line. Never downloads anything. `--force` retrains anyway.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

RASA="$ROOT/.venv-rasa/bin/rasa"
MODELS="$ROOT/bot/models"
MODEL="$MODELS/kefu.tar.gz"
HASH_FILE="$MODELS/kefu.inputs.sha256"
[ -x "$RASA" ] || die "Rasa is not installed in .venv-rasa; run scripts/setup.sh first"

inputs=(config.yml bot/domain.yml $(find bot/data -name '*.yml' | LC_ALL=C sort))
# The hash covers file names and contents, so renaming or removing a data file retrains too.
hash=$(for f in "${inputs[@]}"; do printf '%s\n' "$f"; cat "$f"; done | sha256sum | cut -d' ' -f1)

FORCE=0; [ "${1:-}" = "--force" ] && FORCE=1
if [ $FORCE = 0 ] && [ -f "$MODEL" ] && [ -f "$HASH_FILE" ] && [ "$(cat "$HASH_FILE")" = "$hash" ]; then
  echo "    bot model up to date"
  echo "$MODEL"
  exit 0
fi

export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1
# Rasa's training cache lives under var/, not in the project tree.
export RASA_CACHE_DIRECTORY="$VAR/rasa-cache"
mkdir -p "$MODELS"
say "training the bot model (${#inputs[@]} input files changed or no model yet)"
start=$(date +%s)
# Rasa resolves the domain and data relative to the project directory. Progress: one line per
# component as it trains; the full log is kept in var/log/train-bot.log.
log="$VAR/log/train-bot.log"
rm -f "$MODEL" "$HASH_FILE"
set +e
(cd bot && "$RASA" train --config "$ROOT/config.yml" --domain domain.yml --data data \
   --out "$MODELS" --fixed-model-name kefu) > "$log" 2>&1 &
pid=$!
tail --pid=$pid -n +1 -f "$log" 2>/dev/null \
  | grep --line-buffered -oE "(Starting to train component|Finished training component|Restored component) '?[A-Za-z]+'?" \
  | sed -u 's/^/    /'
wait $pid
rc=$?
set -e
[ $rc -eq 0 ] && [ -f "$MODEL" ] || die "training failed (exit $rc); see $log"
echo "$hash" > "$HASH_FILE"
say "trained in $(( $(date +%s) - start ))s"
echo "$MODEL"
