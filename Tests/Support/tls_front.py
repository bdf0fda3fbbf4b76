#!/usr/bin/env python3
"""A TLS-terminating relay for Kafka tests: tansu 0.6.0 cannot serve TLS itself (its --cert and
--key flags exclude each other), so tests put this in front of it and start tansu with
--advertised-listener-url pointing here, so metadata sends clients back through the relay.

    tls_front.py LISTEN_PORT UPSTREAM_PORT CERT KEY [CA_FILE]

Listens on 127.0.0.1:LISTEN_PORT with TLS (certificate CERT, key KEY); with CA_FILE, clients
must present a certificate signed by it (mutual TLS). Each accepted connection is relayed
byte for byte to 127.0.0.1:UPSTREAM_PORT in plaintext. Prints READY once listening.
Python's ssl module (OpenSSL) is the TLS server, independent of the client under test.
"""

import select
import socket
import ssl
import sys
import threading


def relay(tls, upstream):
    """One thread per connection: the TLS socket is never used from two threads at once."""
    try:
        while True:
            if tls.pending():
                ready = [tls]
            else:
                ready, _, _ = select.select([tls, upstream], [], [])
            for source in ready:
                target = upstream if source is tls else tls
                data = source.recv(65536)
                if not data:
                    return
                target.sendall(data)
    except (OSError, ssl.SSLError):
        pass
    finally:
        for s in (tls, upstream):
            try:
                s.close()
            except OSError:
                pass


def serve(client, upstream_port):
    try:
        upstream = socket.create_connection(("127.0.0.1", upstream_port))
    except OSError:
        client.close()
        return
    upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    relay(client, upstream)


def main(argv):
    if len(argv) not in (5, 6):
        print(__doc__, file=sys.stderr)
        return 2
    listen_port, upstream_port = int(argv[1]), int(argv[2])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(argv[3], argv[4])
    if len(argv) == 6:
        context.load_verify_locations(argv[5])
        context.verify_mode = ssl.CERT_REQUIRED
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", listen_port))
    listener.listen(64)
    print("READY", flush=True)
    while True:
        raw, _ = listener.accept()
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def handshake(raw=raw):
            try:
                tls = context.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError):
                raw.close()
                return
            serve(tls, upstream_port)

        threading.Thread(target=handshake, daemon=True).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
