#!/usr/bin/env bash
# `npm run contract:matrix`: the Open WebUI contract suite against every release of the matrix,
# each a real Open WebUI from PyPI in its own cached venv (scripts/openwebui-install.sh installs
# the missing ones, one at a time), one release after another. Prints the time per release.
#   scripts/contract-matrix.sh                 every release below
#   scripts/contract-matrix.sh 0.6.30 0.9.6    only these
set -euo pipefail
cd "$(dirname "$0")/.."
# The oldest supported 0.6.x, 0.8.x (access grants), 0.9.6 (KB folders, sync/diff), the latest.
RELEASES=(0.6.30 0.8.12 0.9.6 0.12.4)
[ "$#" -gt 0 ] && RELEASES=("$@")
CACHE="$HOME/.cache/youlab-sync"
export YOULAB_REAL_OPENWEBUI=required
summary=()
total_start=$(date +%s)
for v in "${RELEASES[@]}"; do
  venv="$CACHE/openwebui-$v-venv"
  # The latest release may already sit in the default venv (scripts/openwebui-install.sh, no version).
  if [ ! -f "$venv/.youlab-complete" ] && [ -x "$CACHE/openwebui-venv/bin/python" ] \
     && [ "$("$CACHE/openwebui-venv/bin/python" -c 'import importlib.metadata as m; print(m.version("open-webui"))' 2>/dev/null)" = "$v" ]; then
    venv="$CACHE/openwebui-venv"
  else
    bash scripts/openwebui-install.sh "$v"
  fi
  start=$(date +%s)
  echo "== Open WebUI $v ($venv)"
  YOULAB_OPENWEBUI_VENVS="$venv" npx vitest run tests/contract/openwebui.contract.test.ts -t "real Open WebUI"
  summary+=("$v: $(( $(date +%s) - start )) s")
done
echo "== contract matrix passed in $(( $(date +%s) - total_start )) s"
printf '   %s\n' "${summary[@]}"
