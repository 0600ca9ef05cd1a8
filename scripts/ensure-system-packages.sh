#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real, when they are missing: caddy,
# wrk (the bench and its perf smoke test),
# chromium, redis-server (throw-away Redis servers of the fault and replica tests), postgresql-15
# (throw-away clusters: initdb, pg_ctl) and postgresql-client (psql, pg_dump, pg_restore: the
# Postgres init script and the backup/restore test).
# Needs root (or passwordless sudo) for apt-get; without it, says what is missing and carries on,
# and the tests that need the package fail with a message naming it (they never skip silently).
set -euo pipefail
missing=()
command -v caddy >/dev/null 2>&1 || missing+=(caddy)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
command -v pg_dump >/dev/null 2>&1 || missing+=(postgresql-client)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then apt_get=(apt-get); elif sudo -n true 2>/dev/null; then apt_get=(sudo apt-get); else
  echo "ensure-system-packages: missing ${missing[*]}; install them (apt-get install ${missing[*]}) or the tests that use them fail" >&2
  exit 0
fi
echo "ensure-system-packages: installing ${missing[*]}" >&2
"${apt_get[@]}" update -qq
DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
