#!/usr/bin/env bash
# Installs Debian's ClickHouse (18.16: clickhouse-server, clickhouse-client) for the 2-shard
# cluster tests (tests/clickhouse.test.ts start their own servers on loopback ports; no daemon
# is started here, and none is needed). Idempotent and quiet: does nothing when it is there.
set -euo pipefail
if [ -x /usr/sbin/clickhouse-server ] || command -v clickhouse-server >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# policy-rc.d may refuse to start the packaged service; the install still succeeds
$SUDO apt-get install -y -qq --no-install-recommends clickhouse-server clickhouse-client >/dev/null
command -v clickhouse-server >/dev/null || { echo "clickhouse-server not on PATH after install" >&2; exit 1; }
