#!/usr/bin/env bash
# Ask every running pgwsgi (and PostgREST) connected to the database to reload
# its schema cache, e.g. after a migration added a table, column or function.
#
# Usage:
#   PGRST_DB_URI=postgresql://authenticator:...@db.internal/app deploy/admin/reload-schema.sh
#   deploy/admin/reload-schema.sh config     # reload the in-database config instead
#
# Any role that can connect may NOTIFY, so the authenticator's own URI works.
# The channel is PGRST_DB_CHANNEL (db-channel), "pgrst" unless you changed it.
# Without PGRST_DB_URI the usual libpq variables (PGHOST, PGDATABASE, ...) apply.
set -euo pipefail

what="${1:-schema}"
case "$what" in
  schema|config) ;;
  -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
  *) echo "usage: $0 [schema|config]" >&2; exit 2 ;;
esac

channel="${PGRST_DB_CHANNEL:-pgrst}"
if [[ ! "$channel" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
  echo "$0: unexpected channel name: $channel" >&2
  exit 2
fi

args=(--no-psqlrc --quiet -v ON_ERROR_STOP=1)
if [[ -n "${PGRST_DB_URI:-}" ]]; then
  args+=("$PGRST_DB_URI")
fi

psql "${args[@]}" -c "NOTIFY ${channel}, 'reload ${what}'"
echo "sent 'reload ${what}' on channel ${channel}"
