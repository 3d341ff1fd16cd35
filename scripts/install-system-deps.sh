#!/usr/bin/env bash
# Debian packages the tests and the benchmark need. Idempotent; skips apt when all are present.
set -euo pipefail
PKGS=(
  build-essential libsecret-1-dev   # keytar builds from source
  gnome-keyring dbus-x11            # a real Secret Service for the keychain tests
  chromium                          # renderer pages under Playwright
  xvfb                              # a virtual screen for the Electron test where the binary exists
  redis-server                      # multi-hub tests (shared rate limits, change fan-out)
  rsync unison syncthing            # reference tools for `npm run bench`
  python3-venv
  dosfstools                        # mkfs.vfat: a real case-insensitive folder for the folder probe's test
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
