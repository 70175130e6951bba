#!/usr/bin/env bash
# Prepare this checkout: a virtual environment in .venv with the pinned
# packages and the crcen package (editable), and the environment variables
# the book reads.  Safe to run again: pip runs only when requirements.txt or
# pyproject.toml changed.
#
#   bash scripts/setup.sh             environment for building the book
#   bash scripts/setup.sh --browser   also Chromium, for the browser test
#
# scripts/build.sh and scripts/test.sh source this file.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

python_for_venv() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then
      echo "$candidate"
      return
    fi
  done
  echo "error: no python3.11 or python3 on PATH" >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv"
  "$(python_for_venv)" -m venv .venv
fi

stamp=.venv/.crcen-requirements
wanted="$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
  echo "Installing requirements into .venv"
  .venv/bin/python -m pip install --quiet -r requirements.txt
  .venv/bin/python -m pip install --quiet --no-deps -e .
  echo "$wanted" >"$stamp"
fi

install_chromium() {
  if [ -x /usr/bin/chromium ]; then
    return
  fi
  echo "Installing Chromium (Debian package) for the browser test"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
}

for arg in "$@"; do
  case "$arg" in
    --browser) install_chromium ;;
    *) ;;
  esac
done

# The benchmark datasets: the offline scikit-learn data folder beside the
# repository, unless the caller chose a data folder already.
if [ -z "${SCIKIT_LEARN_DATA:-}" ] && [ -d ../shared/scikit_learn_data ]; then
  SCIKIT_LEARN_DATA="$(cd ../shared/scikit_learn_data && pwd)"
  export SCIKIT_LEARN_DATA
fi

export PATH="$ROOT/.venv/bin:$PATH"
# No MPLBACKEND here: the chapters' kernels must keep the inline backend, or
# their figures would not reach the page.

# Idle OpenMP threads sleep rather than spin (crcen._threads explains why);
# set here as well, because the policy must be in place before torch loads.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
