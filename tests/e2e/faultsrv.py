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
  /never/<name>           reads the request and never answers
  /drip/<name>            promises 1000 bytes and sends one byte a second
  /chunkcut/<name>        chunked encoding that stops after one chunk (connection closed)
  /hugelen/<name>         declares Content-Length: 2 GB, sends a little, closes
  /gzbomb/<mb>/<name>     gzip-encoded text that inflates to <mb> MB of "a "
  /hugeheader/<name>      a 300 KB header line before a small body
  /chain/<n>/<name>       redirects n times (to /chain/<n-1>/...), then /ok
  /toftp                  redirects to ftp://127.0.0.1/x
  /toport/<port>/<path>   redirects to http://127.0.0.1:<port>/<path>
  /flaky429/<n>/<name>    429 with Retry-After: 0 for the first n requests, then 200
  /empty/<name>           200 with an empty body
  /astext/<path of a PNG> the file served with Content-Type: text/plain (root: FAULTSRV_ROOT)
  /slow/<ms>/<name>       a small text after <ms> ms; counts requests being answered at once
  /maxconc                the most /slow requests answered at once since the last /maxconc
  /noloc/<code>/<name>    that status (a 3xx) with a text body and no Location header
  /nolocempty/<code>/<name>  that status with an empty body and no Location header
  /emptyloc/<code>/<name> that status with a text body and an empty Location header
  /tonoloc/<code>/<name>  a 301 to /noloc/<code>/<name>: a redirect to a redirect without Location
  /locto/<code>/<name>    that status with a text body and Location: /ok/<name>
"""
import gzip
import http.server
import os
import socketserver
import sys
import threading
import time

flaky_counts = {}
conc = {"now": 0, "max": 0}
conc_lock = threading.Lock()
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
        elif kind in ("flaky", "flaky429"):
            n = int(parts[1])
            with flaky_lock:
                seen = flaky_counts.get(self.path, 0)
                flaky_counts[self.path] = seen + 1
            if seen < n:
                self.reply(503 if kind == "flaky" else 429, b"busy\n", [("Retry-After", "0")])
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
        elif kind == "never":
            time.sleep(600)
            self.close_connection = True
        elif kind == "drip":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(1000):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(1)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
        elif kind == "chunkcut":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"10\r\nhello chunked 16\r\n")
            self.wfile.flush()
            self.close_connection = True
        elif kind == "hugelen":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(2 * 1024 ** 3))
            self.end_headers()
            try:
                self.wfile.write(b"word " * 100)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
        elif kind == "gzbomb":
            mb = int(parts[1])
            body = gzip.compress(b"a " * (mb * 512 * 1024), 9)
            self.reply(200, body, [("Content-Type", "text/plain"), ("Content-Encoding", "gzip")])
        elif kind == "hugeheader":
            self.reply(200, b"small body\n", [("Content-Type", "text/plain"), ("X-Huge", "h" * 300000)])
        elif kind == "chain":
            n = int(parts[1])
            loc = "/chain/%d/%s" % (n - 1, parts[2]) if n > 0 else "/ok/" + parts[2]
            self.reply(302, b"", [("Location", loc)])
        elif kind == "toftp":
            self.reply(302, b"", [("Location", "ftp://127.0.0.1/x")])
        elif kind == "toport":
            self.reply(302, b"", [("Location", "http://127.0.0.1:%s/%s" % (parts[1], "/".join(parts[2:])))])
        elif kind == "empty":
            self.reply(200, b"", [("Content-Type", "text/plain")])
        elif kind == "astext":
            root = os.environ.get("FAULTSRV_ROOT", "/nonexistent")
            path = os.path.join(root, *parts[1:])
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                self.reply(404, b"no such file\n")
                return
            self.reply(200, data, [("Content-Type", "text/plain")])
        elif kind == "slow":
            with conc_lock:
                conc["now"] += 1
                conc["max"] = max(conc["max"], conc["now"])
            time.sleep(int(parts[1]) / 1000.0)
            with conc_lock:
                conc["now"] -= 1
            self.reply(200, b"slow and polite\n", [("Content-Type", "text/plain")])
        elif kind == "maxconc":
            with conc_lock:
                m, conc["max"] = conc["max"], 0
            self.reply(200, b"%d\n" % m, [("Content-Type", "text/plain")])
        elif kind in ("noloc", "nolocempty", "emptyloc", "locto"):
            code = int(parts[1])
            body = b"" if kind == "nolocempty" else b"a redirect's body, not content\n"
            hdrs = [("Content-Type", "text/plain")]
            if kind == "emptyloc":
                hdrs.append(("Location", ""))
            elif kind == "locto":
                hdrs.append(("Location", "/ok/" + parts[2]))
            self.reply(code, body, hdrs)
        elif kind == "tonoloc":
            self.reply(301, b"", [("Location", "/noloc/%s/%s" % (parts[1], parts[2]))])
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
