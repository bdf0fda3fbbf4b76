#!/usr/bin/env bash
# Tools/docker/make-certs.sh — a throwaway CA and a server certificate for the `tls` profile of
# Tools/docker/docker-compose.yml (nats-tls on 127.0.0.1:4443).
#
#   Tools/docker/make-certs.sh [DIR]     default DIR: Tools/docker/certs
#
# Writes ca-cert.pem, ca-key.pem, server-cert.pem and server-key.pem (names 127.0.0.1 and
# localhost). Point clients at the CA: NATSOptions.tls with the CA file, or `nats-sub --tlsca`.
set -euo pipefail
dir="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/certs}"
command -v openssl >/dev/null 2>&1 || { echo "make-certs.sh: openssl not found (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=Tributary test CA" \
    -keyout ca-key.pem -out ca-cert.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server-key.pem -out server.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > server.ext
openssl x509 -req -in server.csr -CA ca-cert.pem -CAkey ca-key.pem -CAcreateserial -days 365 \
    -extfile server.ext -out server-cert.pem 2>/dev/null
rm -f server.csr server.ext ca-cert.srl
# The server in the container runs as another user: the key must be readable.
chmod 644 server-key.pem
echo "make-certs.sh: wrote $dir/{ca-cert,ca-key,server-cert,server-key}.pem"
