#!/usr/bin/env bash
# Check the project: lint, build the book, then one pytest run over the unit
# tests, the package's doctests, every chapter (nbval) and the built website
# in headless Chromium.
#
#   bash scripts/test.sh
#
# Runs in CRCEN_MODE=quick unless CRCEN_MODE is set.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/setup.sh" --browser
export CRCEN_MODE="${CRCEN_MODE:-quick}"

echo "== ruff"
ruff check .
ruff format --check .

echo "== book build (CRCEN_MODE=$CRCEN_MODE)"
rm -rf _build/html _build/screenshots
jupyter-book build . --all -W -n --keep-going

echo "== pytest"
exec python -m pytest tests crcen book \
  --nbval-lax --nbval-current-env --nbval-cell-timeout=1800
