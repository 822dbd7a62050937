#!/usr/bin/env python3
"""A stand-in for the Hugging Face Hub on loopback, for Pagewise's pull tests (the real Hub is
not reachable from the test machines, and tests must not try).

    fake_hub.py ROOT LOG [--gated OWNER/REPO] [--token T] [--drop FILE] [--bad-sha FILE]

ROOT holds OWNER/REPO/... files. It answers as the Hub's documented API does:
  GET  /api/models/OWNER/REPO/tree/REV[?recursive=true]  the file listing (LFS oid/size for .gguf)
  HEAD/GET /OWNER/REPO/resolve/REV/PATH  302 to /cdn/SHA256 with X-Linked-Etag, X-Linked-Size,
       ETag and X-Repo-Commit for LFS files; small non-LFS files are answered directly
  GET  /cdn/SHA256  the bytes, with Range (206 + Content-Range)
401 for a gated repository without `Authorization: Bearer T`, 404 for what is not there.
--drop FILE cuts the first CDN answer for FILE after half of its bytes; --bad-sha FILE lists a
wrong sha256 for it. Every request is appended to LOG as one JSON line. Prints the port.
"""
import hashlib
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse

# A parent that blocks signals in its threads (libdispatch does) passes the mask on: unblock the
# ones that should end the server.
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
ROOT, LOG = sys.argv[1], sys.argv[2]
opts = sys.argv[3:]
GATED = {opts[i + 1] for i, o in enumerate(opts) if o == "--gated"}
TOKEN = next((opts[i + 1] for i, o in enumerate(opts) if o == "--token"), "secret")
DROP = {opts[i + 1] for i, o in enumerate(opts) if o == "--drop"}
BAD = {opts[i + 1] for i, o in enumerate(opts) if o == "--bad-sha"}
dropped = set()
lock = threading.Lock()
by_sha = {}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def listed_sha(path):
    name = os.path.basename(path)
    return "0" * 64 if name in BAD else sha256(path)


class Hub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self):
        with lock, open(LOG, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path, "range": self.headers.get("Range"),
                                "auth": self.headers.get("Authorization")}) + "\n")

    def send(self, status, body=b"", headers=None, head=False):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def error(self, status, message, head=False):
        self.send(status, json.dumps({"error": message}).encode(), {"Content-Type": "application/json",
                                                                     "X-Error-Message": message}, head)

    def authorized(self, repo):
        return repo not in GATED or self.headers.get("Authorization") == "Bearer " + TOKEN

    def do_HEAD(self):
        self.handle_request(head=True)

    def do_GET(self):
        self.handle_request(head=False)

    def handle_request(self, head):
        self.record()
        url = urlparse(self.path)
        parts = [unquote(p) for p in url.path.split("/") if p]
        if len(parts) >= 5 and parts[:2] == ["api", "models"] and parts[4] == "tree":
            return self.tree("/".join(parts[2:4]), head)
        if len(parts) >= 5 and parts[2] == "resolve":
            return self.resolve("/".join(parts[:2]), "/".join(parts[4:]), head)
        if len(parts) == 2 and parts[0] == "cdn":
            return self.cdn(parts[1], head)
        self.error(404, "not found", head)

    def tree(self, repo, head):
        base = os.path.join(ROOT, repo)
        if not os.path.isdir(base):
            return self.error(404, "Repository not found", head)
        if not self.authorized(repo):
            return self.error(401, "Access to model %s is restricted." % repo, head)
        entries = []
        for d, _, files in sorted(os.walk(base)):
            for n in sorted(files):
                p = os.path.join(d, n)
                rel = os.path.relpath(p, base)
                e = {"type": "file", "oid": hashlib.sha1(rel.encode()).hexdigest(), "size": os.path.getsize(p), "path": rel}
                if n.endswith(".gguf"):
                    e["lfs"] = {"oid": listed_sha(p), "size": os.path.getsize(p), "pointerSize": 134}
                entries.append(e)
        self.send(200, json.dumps(entries).encode(), {"Content-Type": "application/json"}, head)

    def resolve(self, repo, rel, head):
        base = os.path.join(ROOT, repo)
        if not os.path.isdir(base):
            return self.error(404, "Repository not found", head)
        if not self.authorized(repo):
            return self.error(401, "Access to model %s is restricted." % repo, head)
        p = os.path.join(base, rel)
        if not os.path.isfile(p):
            return self.send(404, b"Entry not found", {"X-Error-Code": "EntryNotFound"}, head)
        if not p.endswith(".gguf"):
            with open(p, "rb") as f:
                body = f.read()
            return self.send(200, body, {"ETag": '"%s"' % hashlib.sha1(body).hexdigest()}, head)
        digest = sha256(p)
        by_sha[digest] = p
        self.send(302, b"", {"Location": "/cdn/%s?name=%s" % (digest, os.path.basename(p)),
                             "X-Linked-Etag": '"%s"' % listed_sha(p), "X-Linked-Size": str(os.path.getsize(p)),
                             "ETag": '"%s"' % listed_sha(p), "X-Repo-Commit": "0" * 40}, head)

    def cdn(self, digest, head):
        p = by_sha.get(digest)
        if p is None:
            return self.error(404, "no such object", head)
        with open(p, "rb") as f:
            data = f.read()
        start, status, headers = 0, 200, {"Accept-Ranges": "bytes", "ETag": '"%s"' % digest}
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                return self.send(416, b"", {"Content-Range": "bytes */%d" % len(data)}, head)
            status = 206
            headers["Content-Range"] = "bytes %d-%d/%d" % (start, len(data) - 1, len(data))
        body = data[start:]
        name = os.path.basename(p)
        with lock:
            drop = name in DROP and name not in dropped and start == 0
            if drop:
                dropped.add(name)
        if drop and not head:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.send(status, body, headers, head)


server = ThreadingHTTPServer(("127.0.0.1", 0), Hub)
print(server.server_address[1], flush=True)
server.serve_forever()
