#!/usr/bin/env bash
# Installs (Debian packages) and starts what the test suite talks to for real: a PostgreSQL
# server for the database tests and Chromium for the browser test. Prints the export line for
# MEDORA_TEST_POSTGRES_URL. Safe to run again: it skips what is already there.
set -euo pipefail

need=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if ((${#need[@]})); then
    echo "installing ${need[*]}" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

version=$(ls /usr/lib/postgresql | sort -V | tail -1)
pg_lsclusters -h | grep -q "^$version main" || pg_createcluster "$version" main >&2
pg_ctlcluster "$version" main start >&2 2>/dev/null || pg_ctlcluster "$version" main status >&2
for _ in $(seq 30); do pg_isready -q && break; sleep 1; done

as_postgres() { su postgres -c "$1"; }
as_postgres "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname = 'medora'\"" | grep -q 1 ||
    as_postgres "psql -v ON_ERROR_STOP=1 -c \"CREATE ROLE medora LOGIN PASSWORD 'medora'\"" >&2
as_postgres "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = 'medora_test'\"" | grep -q 1 ||
    as_postgres "createdb -O medora medora_test" >&2

echo "export MEDORA_TEST_POSTGRES_URL=postgresql://medora:medora@localhost/medora_test"
