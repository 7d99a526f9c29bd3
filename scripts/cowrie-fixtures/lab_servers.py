"""Servers the honeypot's outbound traffic reaches inside the fixture namespace.

- a web server with two small payloads on 192.0.0.9:8000 (an address Cowrie's download
  blocklist allows; it exists only on the namespace's loopback) and on 127.0.0.1:8000 (the
  target of the SSH forward redirect);
- an HTTP CONNECT proxy on 127.0.0.1:3128 (the target of the SSH forward tunnel) that answers
  every tunnelled request itself.

Runs until killed. Standard library only.
"""

import http.server
import socketserver
import sys
import threading

PAYLOADS = {
    "/x.sh": b"#!/bin/sh\n# ward fixture payload\necho ward-fixture-payload\n",
    "/bot.bin": bytes(range(256)) * 4,
}


class Payloads(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOADS; 404 for anything else."""

    def do_GET(self):
        body = PAYLOADS.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Connect(socketserver.StreamRequestHandler):
    """Accepts one CONNECT, then answers the tunnelled HTTP request with a fixed page."""

    def handle(self):
        line = self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        if not line.startswith(b"CONNECT "):
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            return
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        self.request.settimeout(5)
        try:
            self.request.recv(65536)
        except OSError:
            return
        body = b"tunnelled\n"
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


class Threaded(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    servers = [
        http.server.ThreadingHTTPServer(("192.0.0.9", 8000), Payloads),
        http.server.ThreadingHTTPServer(("127.0.0.1", 8000), Payloads),
        Threaded(("127.0.0.1", 3128), Connect),
    ]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("lab servers ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
