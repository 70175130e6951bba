#!/usr/bin/env bash
# Build the book: every chapter is executed, and any warning fails the build.
#
#   bash scripts/build.sh                  website in _build/html
#   bash scripts/build.sh --no-solutions   course copy, solutions left out,
#                                          in _build/course
#
# CRCEN_MODE=quick (or full, the default) chooses how much each chapter runs.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

build_options=(--all -W -n --keep-going)

if [ "${1:-}" != "--no-solutions" ]; then
  jupyter-book build . "${build_options[@]}"
  exit 0
fi

# Course copy: the same book with sphinx-exercise's `hide_solutions` switched
# on, built from a copy of _config.yml into a folder of its own.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python - "$work/_config.yml" <<'PY'
import sys
from pathlib import Path

import yaml

config = yaml.safe_load(Path("_config.yml").read_text(encoding="utf-8"))
sphinx = config.setdefault("sphinx", {})
sphinx.setdefault("config", {})["hide_solutions"] = True
# Local extension folders are found relative to the configuration file.
sphinx["local_extensions"] = {
    name: str(Path(folder).resolve())
    for name, folder in (sphinx.get("local_extensions") or {}).items()
}
Path(sys.argv[1]).write_text(yaml.safe_dump(config, sort_keys=False))
PY
jupyter-book build . "${build_options[@]}" \
  --config "$work/_config.yml" --path-output "$work"
rm -rf _build/course
mkdir -p _build
mv "$work/_build/html" _build/course
echo "Course copy without solutions: _build/course/index.html"
