#!/usr/bin/env bash
# Runs the real Open WebUI from scripts/openwebui-install.sh offline on 127.0.0.1, with the tiny
# local embeddings server, a fresh data dir and a headless admin - for trying the KB sync by hand.
# Usage: scripts/openwebui-serve.sh [port]   (admin: admin@example.test / admin-password-1)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${OPENWEBUI_VENV:-$HOME/.cache/youlab-sync/openwebui-venv}"
PORT="${1:-3900}"
EMB_PORT="$((PORT + 1))"
DATA="$(mktemp -d -t youlab-owui-XXXXXX)"
npx tsx tests/fakes/embeddings-server.ts "$EMB_PORT" &
EMB_PID=$!
trap 'kill "$EMB_PID" 2>/dev/null || true; rm -rf "$DATA"' EXIT
env -i PATH="$PATH" HOME="$DATA" DATA_DIR="$DATA" XDG_CACHE_HOME="$DATA/cache" HF_HOME="$DATA/cache/hf" \
  WEBUI_SECRET_KEY="local-$RANDOM$RANDOM" WEBUI_ADMIN_EMAIL=admin@example.test WEBUI_ADMIN_PASSWORD=admin-password-1 WEBUI_ADMIN_NAME=Admin \
  ENABLE_API_KEYS=true USER_PERMISSIONS_FEATURES_API_KEYS=true OFFLINE_MODE=true HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
  ENABLE_VERSION_UPDATE_CHECK=false ANONYMIZED_TELEMETRY=false DO_NOT_TRACK=true SCARF_NO_ANALYTICS=true ENABLE_OTEL=false \
  ENABLE_OLLAMA_API=false ENABLE_OPENAI_API=false ENABLE_WEB_SEARCH=false ENABLE_IMAGE_GENERATION=false \
  RAG_EMBEDDING_ENGINE=openai RAG_EMBEDDING_MODEL=hashed-bow RAG_OPENAI_API_BASE_URL="http://127.0.0.1:$EMB_PORT/v1" RAG_OPENAI_API_KEY=x \
  RAG_RERANKING_MODEL= HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost \
  "$VENV/bin/open-webui" serve --host 127.0.0.1 --port "$PORT"
