#!/usr/bin/env bash
# Run every check the project holds itself to: lint, import layering, then the whole test suite.
# Tests start their own pcscd (virtual readers) and PostgreSQL cluster; Qt runs offscreen.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

export QT_QPA_PLATFORM=offscreen
export KIOSK_SHARED_DIR="${KIOSK_SHARED_DIR:-$(cd .. && pwd)/shared}"

echo "== ruff"
.venv/bin/ruff check .
echo "== import layering"
.venv/bin/lint-imports
echo "== tests"
.venv/bin/python -m pytest "$@"
