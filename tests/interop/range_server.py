#!/usr/bin/env python3
"""A small HTTP/1.1 file server for the web seed tests: GET with one Range (206), keep-alive, and counts.

range_server.py ROOT PORT_FILE STATS_FILE [--drop-every N]

Listens on 127.0.0.1 (a free port, written to PORT_FILE once listening). After every request STATS_FILE
holds "CONNECTIONS REQUESTS": connections that carried at least one request (a bare connect, such as a
port probe, is not counted), and requests answered. With --drop-every N the server closes the connection
after every Nth request without saying so (no "Connection: close"), as a server whose idle timeout strikes
just then: the client finds out on its next request.
"""
import os
import re
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote

ROOT, PORT_FILE, STATS_FILE = sys.argv[1], sys.argv[2], sys.argv[3]
DROP_EVERY = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--drop-every" else 0

lock = threading.Lock()
stats = {"connections": 0, "requests": 0}


def record(new_connection):
    with lock:
        stats["connections"] += 1 if new_connection else 0
        stats["requests"] += 1
        tmp = STATS_FILE + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{stats['connections']} {stats['requests']}\n")
        os.replace(tmp, STATS_FILE)
        return stats["requests"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.served = 0

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = os.path.join(ROOT, unquote(self.path.split("?")[0]).lstrip("/"))
        total = record(self.served == 0)
        self.served += 1
        if not os.path.isfile(path):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        size = os.path.getsize(path)
        m = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
        first, last = (int(m.group(1)), min(int(m.group(2)), size - 1)) if m else (0, size - 1)
        self.send_response(206 if m else 200)
        if m:
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Content-Length", str(last - first + 1))
        self.end_headers()
        with open(path, "rb") as f:
            f.seek(first)
            left = last - first + 1
            while left > 0:
                chunk = f.read(min(left, 65536))
                self.wfile.write(chunk)
                left -= len(chunk)
        if DROP_EVERY and total % DROP_EVERY == 0:
            self.wfile.flush()
            self.close_connection = True


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


server = Server(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(f"{server.server_address[1]}\n")
os.replace(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
