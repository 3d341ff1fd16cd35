#!/usr/bin/env bash
# `npm test`: lint, typecheck, unit + integration (vitest), renderer pages (Playwright in Chromium).
# The keychain tests need a real Secret Service: when no session bus is running, re-run this
# script inside a private D-Bus session with an unlocked gnome-keyring.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${YOULAB_TEST_DBUS:-}" ] && [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] \
   && command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
  export YOULAB_TEST_DBUS=1
  exec dbus-run-session -- bash -c 'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec bash scripts/test.sh'
fi
npm run lint
npm run typecheck
npx vitest run "$@"
if [ -d tests/e2e ] && ls tests/e2e/*.spec.ts >/dev/null 2>&1; then
  # The renderer pages run in the system's Chromium; a machine with only Node and npm has none.
  chromium="${YOULAB_CHROMIUM:-/usr/bin/chromium}"
  if [ -x "$chromium" ]; then
    npx playwright test
  elif [ "${YOULAB_E2E:-}" = required ]; then
    echo "YOULAB_E2E=required but there is no Chromium at $chromium" >&2
    exit 1
  else
    echo "renderer tests (Playwright) skipped: no Chromium at $chromium (Debian: apt-get install chromium, or set YOULAB_CHROMIUM)" >&2
  fi
fi
