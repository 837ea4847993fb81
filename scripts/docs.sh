#!/usr/bin/env bash
# Build or serve the documentation site (MkDocs Material, English and Korean).
#   scripts/docs.sh build   strict: any warning fails; the site goes to build/site
#   scripts/docs.sh serve   live preview on http://127.0.0.1:8001
set -euo pipefail
cd "$(dirname "$0")/.."
command="${1:-build}"
scripts/setup.sh --docs --no-models >&2
. .venv/bin/activate
# The API reference is rendered from the server's own OpenAPI document (default settings,
# in a scratch home so that nothing of this machine's own service is touched).
mkdir -p build
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
VOICECLONE_HOME="$scratch" python -c "from voiceclone.api.openapi import print_document; print_document()" \
    > build/openapi.json
export NO_MKDOCS_2_WARNING=1
case "$command" in
    build) mkdocs build --strict --clean ;;
    serve) mkdocs serve --dev-addr 127.0.0.1:8001 ;;
    *) echo "usage: scripts/docs.sh build|serve" >&2; exit 2 ;;
esac
