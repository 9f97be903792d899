#!/usr/bin/env bash
# Console: Debian's chromium for the browser tests (Playwright's own browser download needs the
# internet, so the tests launch the system chromium through executable_path).
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
bash scripts/apt-install.sh chromium
