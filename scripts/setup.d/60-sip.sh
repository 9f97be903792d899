#!/usr/bin/env bash
# SIP edge (issue 4): pjsua2 into .venv, and the Debian peers its tests call it with.
#
# pjsua2-python is a manylinux wheel of pjproject's Python binding (the `sip` extra); sip-tester
# (SIPp) and baresip are the real SIP peers of tests/transport/test_sip_edge.py; festival +
# festvox-ru + sox make the Russian test speech. Fast no-op when everything is there.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"

bash scripts/apt-install.sh sip-tester baresip festival festvox-ru sox

if ! .venv/bin/python -c 'import pjsua2' >/dev/null 2>&1; then
  echo "sip: installing pjsua2-python into .venv"
  .venv/bin/python -m pip install -q 'pjsua2-python>=2.14'
fi
.venv/bin/python -c 'import pjsua2' >/dev/null 2>&1 || { echo "sip: pjsua2 does not import" >&2; exit 1; }
