#!/usr/bin/env bash
# HAProxy: the load balancer in front of N agent workers (bench/bench_cluster.py, tests/cluster,
# deploy/haproxy.cfg). The bench starts it itself on 127.0.0.1 with a generated config: the
# Debian service is stopped and disabled so nothing else listens on its default ports.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
bash scripts/apt-install.sh haproxy
command -v systemctl >/dev/null 2>&1 && systemctl disable --now haproxy >/dev/null 2>&1 || true
version=$(haproxy -v)  # not "| head -1": with pipefail, head closing the pipe early is SIGPIPE (rc 141)
echo "${version%%$'\n'*}"
