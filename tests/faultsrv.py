#!/usr/bin/env python3
"""A misbehaving HTTP server for cfp's bad-input tests (standard library only).

Prints its port on stdout, then serves until killed:
  /status/<code>[/name]   replies with that status (and a small body)
  /flaky/<n>/<name>       503 with Retry-After: 0 for the first n requests of that path, then 200
  /truncate/<name>        promises 100000 bytes, sends 1000, closes the connection
  /loop/<n>               redirects to /loop/<n+1> forever
  /tofile                 redirects to file:///etc/passwd
  /big/<n>/<name>         n bytes with no Content-Length (close-delimited); text/plain, or
                          application/octet-stream when name ends in .bin
  /ok/<name>              a small valid text body
  /hang/<name>            promises 1000 bytes, sends 10, then stalls for 10 minutes
"""
import http.server
import socketserver
import sys
import threading
import time

flaky_counts = {}
flaky_lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        kind = parts[0]
        if kind == "status":
            code = int(parts[1])
            self.reply(code, b"status %d\n" % code, [("Content-Type", "text/plain")])
        elif kind == "flaky":
            n = int(parts[1])
            with flaky_lock:
                seen = flaky_counts.get(self.path, 0)
                flaky_counts[self.path] = seen + 1
            if seen < n:
                self.reply(503, b"busy\n", [("Retry-After", "0")])
            else:
                self.reply(200, b"recovered after retries\n", [("Content-Type", "text/plain")])
        elif kind == "truncate":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"x" * 1000)
            self.wfile.flush()
            self.close_connection = True
        elif kind == "loop":
            n = int(parts[1])
            self.reply(302, b"", [("Location", "/loop/%d" % (n + 1))])
        elif kind == "tofile":
            self.reply(302, b"", [("Location", "file:///etc/passwd")])
        elif kind == "big":
            n = int(parts[1])
            self.send_response(200)
            ctype = "application/octet-stream" if parts[-1].endswith(".bin") else "text/plain"
            self.send_header("Content-Type", ctype)
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"word " * 2000
            sent = 0
            try:
                while sent < n:
                    self.wfile.write(chunk[: n - sent])
                    sent += len(chunk[: n - sent])
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
        elif kind == "hang":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"stalled...")
            self.wfile.flush()
            time.sleep(600)
            self.close_connection = True
        elif kind == "ok":
            self.reply(200, b"hello ok world\n", [("Content-Type", "text/plain")])
        else:
            self.reply(404, b"no such fault\n")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # clients that give up mid-reply (max-bytes, redirects) are expected


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
