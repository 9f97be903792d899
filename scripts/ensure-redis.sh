#!/usr/bin/env bash
# Start a local Redis on 127.0.0.1:6379 if nothing answers there (installing it with apt if absent).
set -euo pipefail
if (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
  exit 0
fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "ensure-redis: installing redis-server"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
mkdir -p /tmp/salesagent-redis
redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
  --dir /tmp/salesagent-redis --logfile /tmp/salesagent-redis/redis.log
for _ in $(seq 1 50); do
  redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG && exit 0
  sleep 0.1
done
echo "ensure-redis: Redis did not start on 127.0.0.1:6379" >&2
exit 1
