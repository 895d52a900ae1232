#!/usr/bin/env bash
# Installs pdflatex with booktabs (Debian's texlive-latex-base + texlive-latex-recommended)
# for the regression-table compile test (tests/etable.test.ts, which fails under CI=true
# when pdflatex is missing). Idempotent and quiet: does nothing when both are there.
# About 48 MB of packages (151 MB installed); under two minutes on the loaded project machine.
set -euo pipefail
if command -v pdflatex >/dev/null 2>&1 && kpsewhich booktabs.sty >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends texlive-latex-base texlive-latex-recommended >/dev/null
pdflatex --version | head -n 1
