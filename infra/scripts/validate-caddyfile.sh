#!/usr/bin/env bash
# Validates the repository's Caddyfile with the real Caddy (Debian package `caddy`).
# Installs Caddy with apt-get only when it is missing (needs root for that step).
# Usage: infra/scripts/validate-caddyfile.sh [path/to/Caddyfile]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
caddyfile="${1:-$root/Caddyfile}"

if ! command -v caddy >/dev/null 2>&1; then
  echo "caddy not found; installing the Debian package" >&2
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends caddy
fi
caddy version

# Formatting (tabs, spacing) as `caddy fmt` writes it; only a warning, since Caddy versions differ.
if ! caddy fmt "$caddyfile" | diff -u "$caddyfile" - >&2; then
  echo "warning: Caddyfile differs from \`caddy fmt\` output (diff above)" >&2
fi

# Validate twice: with the defaults the Caddyfile falls back to, and with the values a deployment
# sets (a real domain, a custom upstream). Validation never requests certificates.
validate() {
  echo "caddy validate with: $*" >&2
  env "$@" caddy validate --config "$caddyfile" --adapter caddyfile
}
validate -u MCPGW_DOMAIN -u GATEWAY_UPSTREAM
validate MCPGW_DOMAIN=mcp.example.com GATEWAY_UPSTREAM=127.0.0.1:8085
validate MCPGW_DOMAIN=:80 GATEWAY_UPSTREAM=gateway:8085

# The documented own-certificate variant: the `tls {$TLS_CERT} {$TLS_KEY}` line uncommented, with a
# throw-away self-signed certificate (Caddy loads the files while validating).
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=mcp.example.com" \
  -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1
sed 's|^\(\s*\)# tls {\$TLS_CERT} {\$TLS_KEY}$|\1tls {$TLS_CERT} {$TLS_KEY}|' "$caddyfile" >"$work/Caddyfile"
grep -q '^\s*tls {\$TLS_CERT} {\$TLS_KEY}$' "$work/Caddyfile" || { echo "no '# tls {\$TLS_CERT} {\$TLS_KEY}' line to uncomment" >&2; exit 1; }
caddyfile="$work/Caddyfile"
validate MCPGW_DOMAIN=mcp.example.com TLS_CERT="$work/cert.pem" TLS_KEY="$work/key.pem"
echo "Caddyfile is valid"
