# Shared helpers for the setup, run and test scripts. Source it; do not run it.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR="${KEFU_VAR_DIR:-$ROOT/var}"
mkdir -p "$VAR/log" "$VAR/stamps"

say()  { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33m!!\033[0m %s\n' "$*" >&2; }
die()  { printf '\033[1;31mxx\033[0m %s\n' "$*" >&2; exit 1; }

# stamp_ok NAME FILES...: true when the files are unchanged since stamp_set NAME FILES...
_hash() { cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1; }
stamp_ok()  { local n=$1; shift; [ -f "$VAR/stamps/$n" ] && [ "$(cat "$VAR/stamps/$n")" = "$(_hash "$@")" ]; }
stamp_set() { local n=$1; shift; _hash "$@" > "$VAR/stamps/$n"; }

APT_UPDATED=""
apt_install() {  # apt_install PACKAGE... (only the missing ones)
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "need ${missing[*]} but apt-get is not available; install them by hand"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  say "installing system packages: ${missing[*]}"
  if [ -z "$APT_UPDATED" ]; then $sudo apt-get update -q; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

find_python() {  # find_python 3.10 -> path of an interpreter of that minor version
  local v=$1 p
  for p in $(compgen -G "${PYENV_ROOT:-$HOME/.pyenv}/versions/$v.*/bin/python") \
           $(command -v "python$v" 2>/dev/null) /usr/local/bin/python$v /usr/bin/python$v; do
    [ -x "$p" ] && "$p" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$v'.split('.'))))" \
      && { echo "$p"; return 0; }
  done
  return 1
}

export RASA_TELEMETRY_ENABLED=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export PYTHONDONTWRITEBYTECODE=1
