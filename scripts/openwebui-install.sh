#!/usr/bin/env bash
# Installs a real Open WebUI from PyPI into its own venv, for the contract suite.
#   scripts/openwebui-install.sh            the latest release, in ~/.cache/youlab-sync/openwebui-venv
#   scripts/openwebui-install.sh 0.6.30     that release, in ~/.cache/youlab-sync/openwebui-0.6.30-venv
# torch goes in first from the CPU wheel on this machine's disk, so open-webui does not
# pull a multi-GB CUDA build. Each release's packaging gaps are filled after it (see EXTRAS).
set -euo pipefail
VERSION="${1:-}"
CACHE="$HOME/.cache/youlab-sync"
if [ -n "$VERSION" ]; then
  VENV="${OPENWEBUI_VENV:-$CACHE/openwebui-$VERSION-venv}"
  SPEC="open-webui==$VERSION"
else
  VENV="${OPENWEBUI_VENV:-$CACHE/openwebui-venv}"
  SPEC="open-webui"
fi
PY="${OPENWEBUI_PYTHON:-python3.11}"

# Modules a release imports but does not declare (found by starting it): 0.6.x misses itsdangerous.
extras_for() {
  case "$1" in
    0.6.*) echo "itsdangerous" ;;
    *) echo "" ;;
  esac
}

installed_version() {
  "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("open-webui"))' 2>/dev/null || true
}

if [ -x "$VENV/bin/open-webui" ] && [ -f "$VENV/.youlab-complete" ]; then
  have="$(installed_version)"
  if [ -z "$VERSION" ] || [ "$have" = "$VERSION" ]; then
    echo "open-webui $have already installed in $VENV"; exit 0
  fi
fi
mkdir -p "$(dirname "$VENV")"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q torch==2.13.0
"$VENV/bin/pip" install -q "$SPEC"
have="$(installed_version)"
extras="$(extras_for "$have")"
if [ -n "$extras" ]; then
  # shellcheck disable=SC2086
  "$VENV/bin/pip" install -q $extras
fi
# Import the app once, offline and in a throwaway DATA_DIR (as the tests start it), so a module
# the release imports but does not declare shows up here and not in the middle of a test run.
check_dir="$(mktemp -d)"
trap 'rm -rf "$check_dir"' EXIT
if ! env -i PATH="$PATH" HOME="$check_dir" DATA_DIR="$check_dir" HF_HOME="$check_dir/hf" WEBUI_SECRET_KEY=install-check \
     OFFLINE_MODE=true HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 RAG_EMBEDDING_ENGINE=openai \
     RAG_EMBEDDING_MODEL=hashed-bow RAG_OPENAI_API_BASE_URL=http://127.0.0.1:9/v1 RAG_RERANKING_MODEL= \
     RAG_EMBEDDING_MODEL_AUTO_UPDATE=false WHISPER_MODEL_AUTO_UPDATE=false \
     HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost \
     timeout 600 "$VENV/bin/python" -c 'import open_webui.main' >"$check_dir/import.log" 2>&1; then
  tail -n 20 "$check_dir/import.log" >&2
  echo "open-webui $have in $VENV does not import (above); a missing module goes into extras_for" >&2
  exit 1
fi
touch "$VENV/.youlab-complete"
echo "open-webui $have installed in $VENV"
