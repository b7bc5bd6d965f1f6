#!/usr/bin/env bash
# A summary of pgwsgi's figures from the admin server's /metrics (admin-server-port).
#
# Usage:
#   deploy/admin/metrics.sh                # admin server at http://127.0.0.1:3001
#   PGWSGI_ADMIN_URL=http://10.0.0.5:3001 deploy/admin/metrics.sh
#
# Prints requests by status class, the connection pools, the schema cache and
# the JWT cache, added up over every worker. For everything, curl /metrics itself.
set -euo pipefail

admin="${PGWSGI_ADMIN_URL:-http://127.0.0.1:3001}"
admin="${admin%/}"
curl --silent --show-error --fail --max-time 5 "${admin}/metrics" | awk '
  /^pgwsgi_requests_total\{/ {
    match($0, /status="[0-9]/); cls = substr($0, RSTART + 8, 1) "xx"; requests[cls] += $NF; total += $NF
  }
  /^pgrst_db_pool_available / { available = $NF }
  /^pgrst_db_pool_max / { max = $NF }
  /^pgrst_db_pool_waiting / { waiting = $NF }
  /^pgrst_db_pool_timeouts_total / { timeouts = $NF }
  /^pgrst_schema_cache_loads_total\{status="SUCCESS"\}/ { loads = $NF }
  /^pgrst_schema_cache_loads_total\{status="FAIL"\}/ { failed = $NF }
  /^pgrst_schema_cache_query_time_seconds / { seconds = $NF }
  /^pgrst_jwt_cache_requests_total / { jwt = $NF }
  /^pgrst_jwt_cache_hits_total / { hits = $NF }
  END {
    printf "requests:     %d", total
    for (c in requests) printf "  %s %d", c, requests[c]
    printf "\n"
    printf "pool:         %d idle of %d, %d waiting, %d timeouts\n", available, max, waiting, timeouts
    printf "schema cache: %d loads, %d failed, last %.1f ms\n", loads, failed, seconds * 1000
    printf "jwt cache:    %d lookups, %d hits\n", jwt, hits
  }'
