#!/usr/bin/env bash
# Run the whole test suite on a fresh machine: set up, make sure Redis answers, run pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/ensure-redis.sh
bash scripts/ensure-postgres.sh
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/15}
.venv/bin/ruff check src tests bench
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
