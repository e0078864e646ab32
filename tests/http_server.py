#!/usr/bin/python3
"""http_server.py -- a local HTTP server for tests/test_fetch.sh.

Serves the files under --root on 127.0.0.1 with what `resnet fetch` relies
on from Hugging Face and Google's storage:

  GET /PATH                 the file, 200; with "Range: bytes=N-" the rest
                            of it from N, 206 with Content-Range; 416 when N
                            is at or past the end; 404 when there is no file
  GET /_cut?n=K             the next K file requests are cut: the headers
                            promise the whole (remaining) length, half of it
                            is sent, then the connection is closed
  GET /_redirect/PATH       302 to /PATH (Hugging Face redirects to its CDN)
  GET /_flip/PATH           the file with its last byte's lowest bit flipped: a
                            copy damaged on the way that still loads (one value
                            changed), which only a hash can tell

Every request is logged to --log as "METHOD PATH RANGE STATUS" (RANGE is "-"
without one).  The port, chosen by the kernel, is written to --port-file
once the server listens.  Only the Python standard library is used.
"""
import argparse
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

STATE = {"cut": 0}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log(self, status, rng):
        with LOCK, open(self.server.log_path, "a") as f:
            f.write(f"{self.command} {self.path} {rng or '-'} {status}\n")

    def log_message(self, fmt, *args):   # quiet on stderr
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urlparse(self.path)
        rng = self.headers.get("Range")
        if url.path == "/_cut":
            with LOCK:
                STATE["cut"] = int(parse_qs(url.query).get("n", ["1"])[0])
            self.log(200, rng)
            return self.reply(200, b"ok\n")
        if url.path.startswith("/_redirect/"):
            self.log(302, rng)
            return self.reply(302, headers=[("Location", url.path[len("/_redirect"):])])
        flip = url.path.startswith("/_flip/")
        rel = url.path[len("/_flip"):] if flip else url.path
        path = os.path.join(self.server.root, rel.lstrip("/"))
        if ".." in url.path.split("/") or not os.path.isfile(path):
            self.log(404, rng)
            return self.reply(404, b"not found\n", [("Content-Type", "text/plain")])
        size = os.path.getsize(path)
        start = 0
        if rng:
            if not rng.startswith("bytes=") or not rng[6:].rstrip("-").isdigit():
                self.log(400, rng)
                return self.reply(400, b"bad range\n")
            start = int(rng[6:].split("-")[0])
            if start >= size:
                self.log(416, rng)
                return self.reply(416, headers=[("Content-Range", f"bytes */{size}")])
        with LOCK:
            cut = STATE["cut"] > 0
            if cut:
                STATE["cut"] -= 1
        status = 206 if rng else 200
        self.log(f"{status}{' cut' if cut else ''}", rng)
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(size - start))
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        if cut:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        with open(path, "rb") as f:
            whole = bytearray(f.read())
        if flip and whole:
            whole[-1] ^= 1
        data = bytes(whole[start:])
        if cut:
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client that goes away (resnet ends a keep-alive connection, a
        cut one) is no error of the server: only anything else is printed."""
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description="local HTTP server for the fetch tests")
    ap.add_argument("--root", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    server = Server(("127.0.0.1", 0), Handler)
    server.root = os.path.abspath(args.root)
    server.log_path = args.log
    open(args.log, "w").close()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{server.server_address[1]}\n")
    os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
