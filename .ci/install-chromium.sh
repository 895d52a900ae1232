#!/usr/bin/env bash
# Installs Debian's Chromium (/usr/bin/chromium) for the browser e2e test (tests/e2e/).
# Idempotent and quiet: does nothing when it is already there. Never downloads a
# Playwright browser build: playwright-core drives this system Chromium.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version
