#!/usr/bin/env python3
"""`cfp serve` is safe: the hardening guarantees, checked on the real binary
with raw sockets (curl and urllib would normalise "..", so they cannot send
most of the attacks).

- It listens on 127.0.0.1 only by default (/proc/net/tcp, `ss -ltn`, and no
  answer on 127.0.0.2 or on a non-loopback address of this host).
- No request gets a file from outside --root: "..", encoded dots and
  slashes, absolute-form targets, "//", backslashes, "%00", control bytes,
  over-long paths, symlinks pointing out, directories and methods other
  than GET/HEAD are all answered 4xx (the exact code is checked), and no
  reply, raw-NUL request lines included, ever carries the outside files'
  contents. A symlink inside the root pointing to a file inside it is
  served (the documented decision).
- Limits: a 1 MiB URL is answered 414, a 1 MiB header line or 20000
  headers 431, and the server goes on; connections beyond the limit wait
  unanswered until a slot frees;
  idle and stalled (slowloris) connections are dropped after the idle
  timeout (30 s); a client vanishing mid-download does not hurt the server.
- SIGTERM: exit 0 within 2 s with requests suspended in the latency queue,
  an idle keep-alive client, a client stalled in its headers and a download
  stalled by a client that does not read.
"""
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import check, cfp_serve, fail, tmpdir  # noqa: E402

SECRET = b"TOP-SECRET-OUTSIDE-ROOT"
IDLE_TIMEOUT_S = 30   # CFP_SERVER_IDLE_TIMEOUT_S
CONN_MAX = 1024       # CFP_SERVER_CONN_MAX
BIG = 8 * 1024 * 1024
LINGER_RESET = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # struct linger {1, 0}: close sends RST


# ---- fixture -------------------------------------------------------------

def make_tree():
    """base/root is served; base/secret.txt and base/root2/ (a sibling whose
    name has the root's as prefix) hold the secret."""
    base = os.path.realpath(tmpdir("cfp_e2e_serve_"))
    root = os.path.join(base, "root")
    os.makedirs(os.path.join(root, "sub"))
    os.makedirs(os.path.join(base, "root2"))
    files = {
        "secret.txt": SECRET + b"\n",
        "root2/secret.txt": SECRET + b" 2\n",
        "root/b.txt": b"hello\n",
        "root/sub/g.txt": b"in sub\n",
    }
    for rel, data in files.items():
        with open(os.path.join(base, rel), "wb") as f:
            f.write(data)
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(os.urandom(BIG))
    links = {
        "link_in.txt": "b.txt",                            # inside -> inside: served
        "link_in_abs.txt": os.path.join(root, "sub/g.txt"),
        "link_in_dir": "sub",
        "link_out.txt": os.path.join(base, "secret.txt"),  # absolute, outside
        "link_rel.txt": "../secret.txt",                   # relative, outside
        "link_dir_out": "..",                              # a directory outside
        "link_sibling": "../root2",                        # prefix of the root's name
        "passwd": "/etc/passwd",
        "link_loop": "link_loop",
    }
    for name, target in links.items():
        os.symlink(target, os.path.join(root, name))
    return base, root


# ---- raw HTTP --------------------------------------------------------------

def connect(port, host="127.0.0.1", timeout=10.0):
    s = socket.create_connection((host, port), timeout=timeout)
    s.settimeout(timeout)
    return s


def read_all(s):
    """Reads until the peer closes (or resets, or the timeout passes)."""
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except (socket.timeout, ConnectionResetError):
        pass
    return out


def read_one(s):
    """Reads one response with a Content-Length on a kept-alive connection."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = s.recv(65536)
        check(b, "connection closed before a full response: %r" % buf[:60])
        buf += b
    head, body = buf.split(b"\r\n\r\n", 1)
    m = re.search(rb"\r\nContent-Length: (\d+)", head, re.I)
    check(m, "no Content-Length in %r" % head)
    while len(body) < int(m.group(1)):
        b = s.recv(65536)
        check(b, "connection closed in a body")
        body += b
    return parse(head), body


def parse(reply):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", reply)
    return int(m.group(1)) if m else 0


def raw(port, target, method=b"GET", headers=b""):
    """One request with the target exactly as given; returns (status, reply)."""
    s = connect(port)
    try:
        s.sendall(method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers +
                  b"Connection: close\r\n\r\n")
        reply = read_all(s)
    finally:
        s.close()
    return parse(reply), reply


def no_leak(reply, what):
    check(SECRET not in reply, "%s: the reply carries the outside secret" % what)
    check(b"root:x:0:" not in reply, "%s: the reply carries /etc/passwd" % what)


def wait_closed(s, limit_s):
    """Seconds until the server closes s (reading whatever comes)."""
    t0 = time.monotonic()
    s.settimeout(limit_s)
    try:
        while s.recv(65536):
            pass
    except socket.timeout:
        fail("connection still open after %.0f s" % limit_s)
    except ConnectionResetError:
        pass
    return time.monotonic() - t0


def port_of(url):
    return int(url.rsplit(":", 1)[1].strip("/"))


# ---- bind address ----------------------------------------------------------

def listening_addrs(port):
    """Local addresses of the LISTEN sockets on port, from /proc/net/tcp{,6}."""
    out = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for ln in lines:
            fields = ln.split()
            addr, hexport = fields[1].split(":")
            if int(hexport, 16) == port and fields[3] == "0A":
                out.append(addr)
    return out


def refused(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    except OSError as e:  # unreachable: no listener answered either
        print("connect %s: %s" % (host, e))
        return True
    return False


def other_local_ipv4():
    """A non-loopback IPv4 address of this host, or None (no packet is sent:
    a UDP connect only picks the route)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.connect(("192.0.2.1", 9))  # TEST-NET-1, never routed for real
            addr = u.getsockname()[0]
    except OSError:
        return None
    return None if addr.startswith("127.") else addr


def test_default_bind(proc, port):
    check(" on http://127.0.0.1:" in proc.first_line, "serve line: %r" % proc.first_line)
    addrs = listening_addrs(port)
    check(addrs == ["0100007F"], "LISTEN sockets on port %d: %r, want only 127.0.0.1" % (port, addrs))
    if shutil.which("ss"):
        ss = subprocess.run(["ss", "-Hltn", "sport = :%d" % port], capture_output=True, text=True)
        local = [ln.split()[3] for ln in ss.stdout.splitlines() if ln.strip()]
        check(local == ["127.0.0.1:%d" % port], "ss -ltn: %r" % local)
    check(refused("127.0.0.2", port), "127.0.0.2:%d answered: not bound to 127.0.0.1 only" % port)
    other = other_local_ipv4()
    if other:
        check(refused(other, port), "%s:%d answered: not bound to 127.0.0.1 only" % (other, port))
    print("bind: LISTEN on 127.0.0.1:%d only (127.0.0.2%s refused)" %
          (port, " and " + other if other else ""))


# ---- path safety -----------------------------------------------------------

LONG = b"/" + b"a" * 1100
REFUSED = [
    # (target, wanted status or None for any 4xx)
    (b"../secret.txt", 400),
    (b"/../secret.txt", 400),
    (b"/../../../../../../../../etc/passwd", 400),
    (b"/%2e%2e/secret.txt", 400),
    (b"/%2E%2E/secret.txt", 400),
    (b"/.%2e/secret.txt", 400),
    (b"%2e%2e%2fsecret.txt", 400),
    (b"/%2e%2e%2fsecret.txt", 400),
    (b"/..%2fsecret.txt", 400),
    (b"/..%2Fsecret.txt", 400),
    (b"/sub/..%2f..%2fsecret.txt", 400),
    (b"/sub/%2e%2e/%2e%2e/secret.txt", 400),
    (b"/%252e%252e/secret.txt", 404),          # decoded once: a name "%2e%2e"
    (b"//etc/passwd", 400),
    (b"/%2fetc/passwd", 400),
    (b"/%2Fetc%2Fpasswd", 400),
    (b"/etc/passwd", 404),                     # relative to the root: absent
    (b"http://127.0.0.1/../../etc/passwd", 400),
    (b"http://127.0.0.1/b.txt", 400),          # absolute-form refused altogether
    (b"https://127.0.0.1/passwd", 400),
    (b"/..\\secret.txt", 400),
    (b"/sub\\..\\..\\secret.txt", 400),
    (b"/..%5csecret.txt", 400),
    (b"/%5c..%5csecret.txt", 400),
    (b"/b.txt%00", 400),
    (b"/link_out.txt%00.txt", 400),
    (b"/%00../secret.txt", 400),
    (b"/b.txt%0d%0aX-Injected:%20yes", 400),
    (b"/%7f", 400),
    (b"/%", 400),
    (b"/%zz", 400),
    (LONG, 400),
    (b"/" + b"%61" * 1100, 400),
    (b"/" + b"../" * 400 + b"etc/passwd", 400),
    (b"/link_out.txt", 404),
    (b"/link_rel.txt", 404),
    (b"/link_dir_out/secret.txt", 404),
    (b"/link_dir_out", 404),
    (b"/link_sibling/secret.txt", 404),
    (b"/passwd", 404),
    (b"/link_loop", 403),
    (b"/", 403),
    (b"/sub", 403),
    (b"/sub/", 400),
    (b"/link_in_dir", 403),
    (b"/./b.txt", 400),
    (b"*", 400),
]
SERVED = [
    (b"/b.txt", b"hello\n"),
    (b"/sub/g.txt", b"in sub\n"),
    (b"/%62.txt", b"hello\n"),
    (b"/link_in.txt", b"hello\n"),       # symlink inside -> file inside: served
    (b"/link_in_abs.txt", b"in sub\n"),
    (b"/link_in_dir/g.txt", b"in sub\n"),
]
METHODS = [b"POST", b"PUT", b"DELETE", b"OPTIONS", b"PATCH", b"TRACE", b"PROPFIND", b"FOO"]


def test_paths(port):
    for target, want in REFUSED:
        for method in (b"GET", b"HEAD"):
            code, reply = raw(port, target, method)
            what = "%s %r" % (method.decode(), target[:80])
            no_leak(reply, what)
            check(400 <= code < 500, "%s: status %d, want 4xx" % (what, code))
            check(want is None or code == want, "%s: status %d, want %d" % (what, code, want))
    for target, body in SERVED:
        code, reply = raw(port, target)
        check(code == 200 and reply.endswith(b"\r\n\r\n" + body),
              "GET %r: status %d, reply %r" % (target, code, reply[-60:]))
    for method in METHODS:
        for target in (b"/b.txt", b"/link_out.txt", b"/../secret.txt"):
            code, reply = raw(port, target, method)
            no_leak(reply, "%s %r" % (method.decode(), target))
            check(code == 405 and b"Allow: GET, HEAD" in reply,
                  "%s %r: status %d, want 405 with Allow" % (method.decode(), target, code))
    # A raw NUL ends the C string MHD hands over: whatever prefix is left is
    # checked like any path, so nothing outside the root comes back.
    for target in (b"/link_out.txt\x00", b"/b.txt\x00/../../../etc/passwd", b"/..\x00/secret.txt"):
        code, reply = raw(port, target)
        no_leak(reply, "GET %r" % target)
        check(code in (200, 400, 404), "GET %r: status %d" % (target, code))
    print("paths: %d refused targets (GET and HEAD), %d methods, %d served, no leak" %
          (len(REFUSED), len(METHODS), len(SERVED)))


# ---- limits ----------------------------------------------------------------

def test_oversized(port):
    big = b"a" * (1024 * 1024)
    for what, want, head in (
            ("URL", 414, b"GET /" + big + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("header line", 431, b"GET /b.txt HTTP/1.1\r\nHost: x\r\nX-Big: " + big + b"\r\n\r\n"),
            ("header count", 431, b"GET /b.txt HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 20000 + b"\r\n")):
        s = connect(port)
        try:
            s.sendall(head)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before taking it all
        reply = read_all(s)
        s.close()
        code = parse(reply)
        check(code == want, "oversized %s: status %d, want %d" % (what, code, want))
        code, _ = raw(port, b"/b.txt")
        check(code == 200, "after an oversized %s the server answers %d" % (what, code))
    print("oversized: 1 MiB URL -> 414, 1 MiB header line / 20000 headers -> 431, server fine")


def test_client_vanishes(port):
    """A client that reads a little of a big file and resets the connection:
    the server (sendfile, SIGPIPE) keeps serving."""
    for _ in range(5):
        s = connect(port)
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(1024)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
        s.close()
    code, reply = raw(port, b"/big.bin")
    check(code == 200 and len(reply) > BIG, "big.bin after aborted downloads: %d" % code)
    print("client vanishing mid-download: server fine")


def soft_nofile(pid):
    with open("/proc/%d/limits" % pid) as f:
        for ln in f:
            if ln.startswith("Max open files"):
                v = ln.split()[3]
                return None if v == "unlimited" else int(v)
    return None


def test_connection_limit(base):
    """Every slot taken by a client stalled in its headers: one more client
    gets no answer (it waits in the backlog) until a slot is freed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    proc, url = cfp_serve(os.path.join(base, "root"))
    try:
        lim = soft_nofile(proc.p.pid)
        want = CONN_MAX if lim is None else min(CONN_MAX, (lim - 32) // 2)
        need = want + 64
        if hard != resource.RLIM_INFINITY and hard < need:
            from e2e_common import skip_part
            skip_part("connection limit part", "RLIMIT_NOFILE hard %d < %d" % (hard, need))
            return
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), hard))
        port = port_of(url)
        stalled = []
        for _ in range(want):
            s = connect(port)
            s.sendall(b"GET /b.txt HTTP/1.1\r\nHost:")
            stalled.append(s)
        extra = connect(port, timeout=1.0)
        extra.sendall(b"GET /b.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        try:
            got = extra.recv(100)
            fail("connection %d answered %r: no connection limit" % (want + 1, got))
        except socket.timeout:
            pass
        stalled.pop().close()
        extra.settimeout(5.0)
        reply = read_all(extra)
        check(parse(reply) == 200, "waiting client after a slot freed: %r" % reply[:60])
        extra.close()
        for s in stalled:
            s.close()
        print("connection limit: %d connections held, connection %d waited, served once one closed"
              % (want, want + 1))
    finally:
        stop_promptly(proc, "connection-limit server")
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# ---- SIGTERM -----------------------------------------------------------------

def stop_promptly(proc, what, sig=signal.SIGTERM):
    t0 = time.monotonic()
    proc.p.send_signal(sig)
    try:
        rc = proc.p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.p.kill()
        proc.p.wait()
        fail("%s: still running 10 s after %s" % (what, signal.Signals(sig).name))
    dt = time.monotonic() - t0
    proc.p.stdout.close()
    check(rc == 0, "%s: exit status %d after %s, want 0" % (what, rc, signal.Signals(sig).name))
    check(dt < 2.0, "%s: took %.2f s to exit after %s" % (what, dt, signal.Signals(sig).name))
    return dt


def test_sigterm_suspended(base):
    """Requests parked for 10 s in the latency queue, a connection that sent
    nothing and a client stalled in its headers."""
    proc, url = cfp_serve(os.path.join(base, "root"), latency_ms=10000)
    port = port_of(url)
    parked = []
    for _ in range(8):
        s = connect(port)
        s.sendall(b"GET /b.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        parked.append(s)
    idle = connect(port)
    stalled = connect(port)
    stalled.sendall(b"GET /b.txt HTTP/1.1\r\nHo")
    time.sleep(0.3)
    for s in parked:
        s.setblocking(False)
        try:
            got = s.recv(10)
            fail("a request parked for 10 s was answered or closed early: %r" % got)
        except BlockingIOError:
            pass  # nothing yet: still parked
        s.setblocking(True)
    dt = stop_promptly(proc, "serve with 8 suspended requests", signal.SIGTERM)
    for s in parked + [idle, stalled]:
        wait_closed(s, 5.0)
        s.close()
    print("SIGTERM with 8 requests suspended for 10 s, idle and stalled clients: exit 0 in %.3f s" % dt)


def test_sigterm_busy(base):
    """An idle keep-alive client, a download stalled by a client that does
    not read, a client stalled in its headers; once with SIGTERM, once with
    SIGINT."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        proc, url = cfp_serve(os.path.join(base, "root"))
        port = port_of(url)
        keep = connect(port)
        keep.sendall(b"GET /b.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        check(read_one(keep) == (200, b"hello\n"), "keep-alive request")
        slow = connect(port)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        slow.recv(100)
        stalled = connect(port)
        stalled.sendall(b"GET /b.txt HTTP/1.1\r\n")
        time.sleep(0.2)
        dt = stop_promptly(proc, "busy serve", sig)
        for s in (keep, stalled):
            wait_closed(s, 5.0)
            s.close()
        # Not drained: the kernel would go on trickling the dead server's
        # send buffer into the 4 KiB window for minutes.
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
        slow.close()
        print("%s with a keep-alive, a stalled download and a stalled request: exit 0 in %.3f s"
              % (signal.Signals(sig).name, dt))


# ---- main --------------------------------------------------------------------

def main():
    base, root = make_tree()
    proc, url = cfp_serve(root)
    try:
        port = port_of(url)
        # The idle-timeout clients start first; they are checked at the end.
        t_idle = time.monotonic()
        keep = connect(port)
        keep.sendall(b"GET /b.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        check(read_one(keep) == (200, b"hello\n"), "keep-alive request")
        slowloris = connect(port)
        slowloris.sendall(b"GET /b.txt HTTP/1.1\r\nHost: x\r\n")

        test_default_bind(proc, port)
        test_paths(port)
        test_oversized(port)
        test_client_vanishes(port)
        test_connection_limit(base)
        test_sigterm_suspended(base)
        test_sigterm_busy(base)

        # Open until the timeout, closed soon after it (when the checks above
        # ran faster than the timeout, which is the normal case).
        early = time.monotonic() - t_idle < IDLE_TIMEOUT_S - 1
        for s, what in ((keep, "idle keep-alive"), (slowloris, "stalled (slowloris)")):
            wait_closed(s, max(IDLE_TIMEOUT_S + 8 - (time.monotonic() - t_idle), 1.0))
            dt = time.monotonic() - t_idle
            check(dt >= IDLE_TIMEOUT_S - 1, "%s connection closed after %.1f s, before the timeout"
                  % (what, dt))
            check(not early or dt < IDLE_TIMEOUT_S + 5,
                  "%s connection closed after %.1f s, timeout %d s" % (what, dt, IDLE_TIMEOUT_S))
            print("%s connection closed after %.1f s (timeout %d s)" % (what, dt, IDLE_TIMEOUT_S))
            s.close()
        code, _ = raw(port, b"/b.txt")
        check(code == 200, "server answers %d at the end" % code)
        stop_promptly(proc, "main serve")
    finally:
        if proc.p.poll() is None:
            proc.stop()
        shutil.rmtree(base, ignore_errors=True)
    print("e2e_serve: ok")


if __name__ == "__main__":
    main()
