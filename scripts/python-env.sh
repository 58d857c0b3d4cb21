#!/usr/bin/env bash
# Creates, or reuses when it is up to date, the pinned Python environment of the
# PyTorch reference implementations (test/reference/), OUTSIDE the repository:
#   ${HOPE_VENV:-$HOME/.cache/hope-venv}
# "Up to date" = the venv holds a stamp equal to the sha256 of
# test/reference/requirements.txt; edit the pins and the next run reinstalls.
# Non-interactive. Packages come from PyPI only (torch's default PyPI wheel pulls
# its CUDA libraries: several GB on the first run). Prints the interpreter path
# as its last line, e.g.:
#   py="$(bash scripts/python-env.sh | tail -1)"; "$py" -m pytest test/reference -q
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/test/reference/requirements.txt"
venv="${HOPE_VENV:-$HOME/.cache/hope-venv}"
python="${HOPE_PYTHON:-python3}"
stamp="$venv/.requirements.sha256"

log() { echo "[python-env] $*" >&2; }

case "$(realpath -m "$venv")/" in
  "$root"/*) log "HOPE_VENV=$venv is inside the repository; choose a path outside it"; exit 1 ;;
esac

want="$(sha256sum "$requirements" | cut -d' ' -f1)"
have="$(cat "$stamp" 2>/dev/null || true)"

if [[ -x "$venv/bin/python" && "$have" == "$want" ]]; then
  log "$venv is up to date (requirements sha256 ${want:0:12})"
else
  if [[ ! -x "$venv/bin/python" ]]; then
    # Debian's python3 needs python3-venv for ensurepip; install it when missing.
    if ! "$python" -c 'import ensurepip, venv' 2>/dev/null && command -v apt-get >/dev/null; then
      log "installing python3-venv"
      sudo_cmd=()
      [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo -n)
      export DEBIAN_FRONTEND=noninteractive
      "${sudo_cmd[@]}" apt-get update -q
      "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends python3-venv
    fi
    log "creating $venv with $("$python" --version 2>&1)"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
  else
    log "$venv exists but its requirements stamp is stale: reinstalling the pins"
  fi
  rm -f "$stamp"
  export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
  log "installing $requirements (progress below)"
  "$venv/bin/python" -m pip install --progress-bar off -r "$requirements" >&2
  "$venv/bin/python" -m pip check >&2 || log "warning: pip check reports conflicts (see above)"
  echo "$want" > "$stamp"
  log "done"
fi

"$venv/bin/python" -W ignore -c 'import torch, numpy, safetensors, pytest, titans_pytorch, nested_learning' \
  || { log "the environment is broken: remove $venv and run again"; exit 1; }
echo "$venv/bin/python"
