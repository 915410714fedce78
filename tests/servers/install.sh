#!/usr/bin/env bash
# Installs what the file-system tests (tests/fs) run against: an OpenSSH server and client and tmux
# (apt), and moto's S3 server with the aws CLI (pip, into the project's virtualenv); and Chromium (apt), in
# which tests/e2e/test_report.py opens a report. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
have_sshd() { command -v sshd > /dev/null || [ -x /usr/sbin/sshd ]; }
if ! have_sshd || ! command -v ssh > /dev/null || ! command -v tmux > /dev/null; then
  if [ "$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2> /dev/null; then SUDO="sudo -n"; else SUDO=none; fi
  if [ "$SUDO" = none ] || ! command -v apt-get > /dev/null; then
    echo "note: cannot install openssh-server/tmux here (needs root and apt); their tests will be skipped" >&2
  else
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openssh-server openssh-client tmux > /dev/null
  fi
fi
# The report test opens `hypermetric report`'s HTML in a headless Chromium (Debian's `chromium` package).
if ! command -v chromium > /dev/null && ! command -v chromium-browser > /dev/null; then
  if [ "$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2> /dev/null; then SUDO="sudo -n"; else SUDO=none; fi
  if [ "$SUDO" = none ] || ! command -v apt-get > /dev/null; then
    echo "note: cannot install chromium here (needs root and apt); the report's browser test will be skipped" >&2
  else
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium > /dev/null
  fi
fi
"$PY" -m pip install --quiet "moto[server]" awscli
