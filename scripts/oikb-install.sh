#!/usr/bin/env bash
# Installs oikb (Open WebUI's own knowledge-base sync tool, PyPI) into its own venv, for the
# knowledge-base section of `npm run bench` (tests/bench/tools/oikb.ts). Like
# scripts/openwebui-install.sh: Python 3.11, a venv of its own, nothing when it is already there,
# and only the configured package index (this machine's mirror). oikb needs no torch.
# The version is pinned so a re-run measures the same tool; OIKB_WHEEL installs from a local wheel.
set -euo pipefail
VENV="${OIKB_VENV:-$HOME/.cache/youlab-sync/oikb-venv}"
PY="${OIKB_PYTHON:-python3.11}"
VERSION="${OIKB_VERSION:-0.6.0}"
export PIP_DISABLE_PIP_VERSION_CHECK=1
if [ -x "$VENV/bin/oikb" ] && [ "$("$VENV/bin/python" -c 'import oikb; print(oikb.__version__)' 2>/dev/null)" = "$VERSION" ]; then
  echo "oikb $VERSION already installed in $VENV"; exit 0
fi
mkdir -p "$(dirname "$VENV")"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q "${OIKB_WHEEL:-oikb==$VERSION}"
"$VENV/bin/python" -c 'import oikb; print("oikb", oikb.__version__, "installed")'
