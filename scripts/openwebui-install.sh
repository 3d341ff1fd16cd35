#!/usr/bin/env bash
# Installs a real Open WebUI from PyPI into its own venv, for the contract suite.
# torch goes in first from the CPU wheel on this machine's disk, so open-webui does not
# pull a multi-GB CUDA build.
set -euo pipefail
VENV="${OPENWEBUI_VENV:-$HOME/.cache/youlab-sync/openwebui-venv}"
PY="${OPENWEBUI_PYTHON:-python3.11}"
if [ -x "$VENV/bin/open-webui" ] && "$VENV/bin/python" -c 'import open_webui' 2>/dev/null; then
  echo "open-webui already installed in $VENV"; exit 0
fi
mkdir -p "$(dirname "$VENV")"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q torch==2.13.0
"$VENV/bin/pip" install -q open-webui
"$VENV/bin/python" -c 'import open_webui; print("open-webui", open_webui.__version__ if hasattr(open_webui, "__version__") else "installed")'
