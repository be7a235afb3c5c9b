#!/usr/bin/env bash
# Instructions from exec to the handshake line, counted by valgrind's callgrind (exact under
# load, unlike wall time). The provider runs as Terraform starts it (AutoMTLS with a P-521
# client certificate from openssl); once the handshake line is out it is idle (waiting for a
# connection), and SIGTERM ends it so callgrind writes its counts.
#
#   scripts/startup-callgrind.sh BINARY [OUT_FILE]     prints the total instruction count (Ir)
set -euo pipefail
bin=$1
out=${2:-$(mktemp -u /tmp/callgrind.XXXXXX)}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-521 -keyout "$dir/key.pem" \
  -out "$dir/cert.pem" -days 1 -nodes -subj "/O=HashiCorp/CN=localhost" 2> /dev/null
mkfifo "$dir/out"
env -i PATH="$PATH" TF_PLUGIN_MAGIC_COOKIE=d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2 \
  PLUGIN_PROTOCOL_VERSIONS=5,6 PLUGIN_MIN_PORT=10000 PLUGIN_MAX_PORT=25000 \
  PLUGIN_CLIENT_CERT="$(cat "$dir/cert.pem")" \
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" > "$dir/out" 2> "$dir/err" &
pid=$!
read -r line < "$dir/out"
kill -TERM "$pid" 2> /dev/null || true
wait "$pid" 2> /dev/null || true
case "$line" in 1\|6\|tcp\|*) ;; *) echo "no handshake line: $line" >&2; cat "$dir/err" >&2; exit 1 ;; esac
grep -h '^summary:\|^totals:' "$out" | head -1 | awk '{print $2}'
