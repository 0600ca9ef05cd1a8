#!/bin/sh
# Runs once, when the compose Postgres volume is first initialised (docker-entrypoint-initdb.d),
# as the superuser `mcpgw`. docker-compose.unified.yml only: Open WebUI keeps its data in the same
# Postgres server as mcpgw, in a database of its own.
#
#   openwebui     owns the database `openwebui` (Open WebUI's DATABASE_URL; OPENWEBUI_DB_PASSWORD)
#   mcpgw_reader  may only read it (the gateway's OPENWEBUI_DATABASE_URL; OPENWEBUI_READER_PASSWORD):
#                 it looks up Open WebUI users ("user") and API keys (api_key) by id
#
# Open WebUI creates its tables on its first start, after this script: default privileges give
# the reader SELECT on every table `openwebui` creates in `public`. To narrow it to the two tables
# the gateway reads, once Open WebUI has started (docs/deployment.md):
#   REVOKE SELECT ON ALL TABLES IN SCHEMA public FROM mcpgw_reader;
#   GRANT SELECT ON public."user", public.api_key TO mcpgw_reader;
#
# A volume initialised before this script existed (or by docker-compose.yml) does not run it: run
# the same statements with psql (docs/deployment.md, "Adding Open WebUI later").
set -eu

if [ -z "${OPENWEBUI_DB_PASSWORD:-}" ] || [ -z "${OPENWEBUI_READER_PASSWORD:-}" ]; then
  echo "10-openwebui.sh: OPENWEBUI_DB_PASSWORD or OPENWEBUI_READER_PASSWORD unset; no Open WebUI database made" >&2
  exit 0
fi

# Passwords go in as psql variables (:'name' quotes them as literals), never spliced into SQL.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner_password="$OPENWEBUI_DB_PASSWORD" -v reader_password="$OPENWEBUI_READER_PASSWORD" <<'SQL'
CREATE ROLE openwebui LOGIN PASSWORD :'owner_password';
CREATE ROLE mcpgw_reader LOGIN PASSWORD :'reader_password';
CREATE DATABASE openwebui OWNER openwebui;
\connect openwebui
REVOKE ALL ON DATABASE openwebui FROM PUBLIC;
GRANT CONNECT ON DATABASE openwebui TO openwebui, mcpgw_reader;
ALTER SCHEMA public OWNER TO openwebui;
GRANT USAGE ON SCHEMA public TO mcpgw_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE openwebui IN SCHEMA public GRANT SELECT ON TABLES TO mcpgw_reader;
ALTER ROLE mcpgw_reader SET default_transaction_read_only = on;
SQL
