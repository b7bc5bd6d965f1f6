#!/usr/bin/env bash
# Mint a JWT with the configured jwt-secret, for testing and administration.
#
# Usage:
#   deploy/admin/token.sh web_user                      # {"role": "web_user"}
#   deploy/admin/token.sh web_user sub=alice exp=3600   # more claims; exp is seconds from now
#   PGWSGI_URL=http://127.0.0.1:3000 deploy/admin/token.sh web_user | ...
#
# The secret comes from the configuration pgwsgi itself reads: PGRST_CONFIG and
# PGRST_* (e.g. PGRST_JWT_SECRET). PGWSGI_BIN names the pgwsgi command (default:
# the one on PATH, then /opt/pgwsgi/venv/bin/pgwsgi).
set -euo pipefail

if [[ $# -lt 1 || "$1" == -h || "$1" == --help ]]; then
  sed -n '2,11p' "$0"
  exit $(( $# < 1 ? 2 : 0 ))
fi
role="$1"
shift

bin="${PGWSGI_BIN:-$(command -v pgwsgi || echo /opt/pgwsgi/venv/bin/pgwsgi)}"
args=(token --role "$role")
for claim in "$@"; do
  if [[ "$claim" == exp=* ]]; then
    args+=(--exp "${claim#exp=}")
  else
    args+=(--claim "$claim")
  fi
done
exec "$bin" "${args[@]}"
