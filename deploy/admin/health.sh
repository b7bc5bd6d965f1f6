#!/usr/bin/env bash
# Ask pgwsgi's admin server whether it is live and ready (admin-server-port).
#
# Usage:
#   deploy/admin/health.sh                 # admin server at http://127.0.0.1:3001
#   PGWSGI_ADMIN_URL=http://10.0.0.5:3001 deploy/admin/health.sh
#
# Prints the status of /live and /ready; exits 0 when ready, 1 otherwise (also
# when nothing answers), so it can gate a deploy or feed a monitoring check.
set -euo pipefail

admin="${PGWSGI_ADMIN_URL:-http://127.0.0.1:3001}"
admin="${admin%/}"
curl_args=(--silent --output /dev/null --write-out '%{http_code}' --max-time 5)

live="$(curl "${curl_args[@]}" "${admin}/live" || true)"
ready="$(curl "${curl_args[@]}" "${admin}/ready" || true)"
echo "live:  ${live:-000}"
echo "ready: ${ready:-000}"
[[ "$ready" == "200" ]]
