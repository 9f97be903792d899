#!/usr/bin/env bash
# Make sure PostgreSQL answers on 127.0.0.1:5432 with a database "test" (the production outbox's
# tests): start the local cluster if it is stopped, install it with apt if absent.
set -euo pipefail
ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ! command -v pg_isready >/dev/null 2>&1 || ! ready; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "ensure-postgres: installing postgresql"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  version=$(ls /etc/postgresql | sort -V | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  for _ in $(seq 1 50); do ready && break; sleep 0.2; done
  ready || { echo "ensure-postgres: PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }
fi
# the tests connect as the current user to the database "test" (trust auth on loopback)
if ! psql -h 127.0.0.1 -d test -Atc 'select 1' >/dev/null 2>&1; then
  su postgres -c "createuser --superuser '$(id -un)'" >/dev/null 2>&1 || true
  su postgres -c "createdb -O '$(id -un)' test" >/dev/null 2>&1 || true
  psql -h 127.0.0.1 -d test -Atc 'select 1' >/dev/null 2>&1 \
    || echo "ensure-postgres: database 'test' is not reachable as $(id -un); the PostgreSQL outbox tests will fail" >&2
fi
exit 0
