#!/usr/bin/env bash
# Smoke test a running pgwsgi: request a few paths and check the status codes.
#
# Usage:
#   deploy/admin/smoke.sh                       # / is 200, an unknown table is 404
#   deploy/admin/smoke.sh /notes=200 /users=401 # your own PATH=STATUS checks
#   PGWSGI_URL=https://api.example.com PGWSGI_TOKEN="$JWT" deploy/admin/smoke.sh /users=200
#
# PGWSGI_URL   base URL, default http://127.0.0.1:3000 (gunicorn directly)
# PGWSGI_TOKEN optional JWT, sent as "Authorization: Bearer ..."
# Checks are GET requests. Against the demo (make run), anonymous
# `/notes=200 /users=401` should pass: anonymous may read notes, not users.
# Exits 1 if any check fails.
set -euo pipefail

base="${PGWSGI_URL:-http://127.0.0.1:3000}"
base="${base%/}"

if [[ $# -eq 0 ]]; then
  set -- "/=200" "/pgwsgi_smoke_no_such_table=404"
fi

curl_args=(--silent --show-error --output /dev/null --write-out '%{http_code}' --max-time 10)
if [[ -n "${PGWSGI_TOKEN:-}" ]]; then
  curl_args+=(--header "Authorization: Bearer ${PGWSGI_TOKEN}")
fi

failures=0
for check in "$@"; do
  if [[ "$check" != /*=* ]]; then
    echo "usage: $0 [/PATH=STATUS ...]  (got: $check)" >&2
    exit 2
  fi
  path="${check%=*}"
  want="${check##*=}"
  got="$(curl "${curl_args[@]}" "${base}${path}" || true)"
  if [[ "$got" == "$want" ]]; then
    echo "ok    GET ${path} -> ${got}"
  else
    echo "FAIL  GET ${path} -> ${got:-no response} (expected ${want})"
    failures=$((failures + 1))
  fi
done

if ((failures > 0)); then
  echo "${failures} check(s) failed against ${base}" >&2
  exit 1
fi
echo "all checks passed against ${base}"
