"""A fake Transmission RPC server on 127.0.0.1 for UI tests that need no BitTorrent at all: any number of
torrents, some of them changing on every poll, and hostile strings in every field a UI shows (torrent, file,
peer and tracker names, errors). It also serves a web root at / like `shoal daemon` does.

Run alone to look at the page by hand: fake_rpc.py [--torrents N] [--port P]
"""

import argparse
import base64
import json
import mimetypes
import os
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOSTILE = {
    "name": "<img src=x onerror=alert(1)>",
    "file": "<svg onload=alert(5)>/x.bin",
    "client": "<script>alert(2)</script>",
    "announce": "http://127.0.0.1:1/announce?<img src=x onerror=alert(3)>",
    "result": "<b onmouseover=alert(4)>failure</b>",
    "error": "<img src=y onerror=alert(6)>",
}
SESSION_ID = "fake-session-0123456789"


class FakeTransmission:
    """The torrents and the answers; `changes_per_poll` torrents move on each recently-active query."""

    def __init__(self, count, seed=1, changes_per_poll=100):
        self.rng = random.Random(seed)
        self.changes_per_poll = changes_per_poll
        self.lock = threading.Lock()
        self.torrents = {}
        self.removed = []
        for i in range(1, count + 1):
            self.torrents[i] = self.make_torrent(i)
        hostile = self.torrents[1]
        hostile["name"] = HOSTILE["name"]
        hostile["error"] = 3
        hostile["errorString"] = HOSTILE["error"]

    def make_torrent(self, i):
        size = self.rng.randrange(1 << 20, 8 << 30)
        done = self.rng.choice([0.0, 1.0, self.rng.random()])
        status = 6 if done == 1.0 else self.rng.choice([0, 4, 4, 3])
        return {
            "id": i, "name": f"torrent {i:05d} " + self.rng.choice(["ubuntu", "debian", "photos", "film", "music"]),
            "status": status, "percentDone": done, "rateDownload": self.rng.randrange(0, 5 << 20) if status == 4 else 0,
            "rateUpload": self.rng.randrange(0, 1 << 20), "uploadRatio": round(self.rng.random() * 3, 3),
            "eta": self.rng.randrange(1, 100000) if status == 4 else -1, "error": 0, "errorString": "",
            "sizeWhenDone": size, "leftUntilDone": int(size * (1 - done)), "totalSize": size,
            "peersConnected": self.rng.randrange(0, 50), "peersSendingToUs": 0, "peersGettingFromUs": 0,
            "metadataPercentComplete": 1, "recheckProgress": 0, "queuePosition": i - 1,
            "addedDate": 1_700_000_000 + i, "isFinished": False,
        }

    def details(self, t):
        pieces = 64
        have = bytes(self.rng.randrange(256) for _ in range(pieces // 8))
        return {
            **t, "hashString": f"{t['id']:040x}", "haveValid": t["sizeWhenDone"] - t["leftUntilDone"],
            "pieceCount": pieces, "pieceSize": 1 << 20, "pieces": base64.b64encode(have).decode(),
            "downloadDir": "/downloads", "comment": HOSTILE["name"], "creator": HOSTILE["client"],
            "dateCreated": 0, "doneDate": 0, "downloadedEver": 0, "uploadedEver": 0, "corruptEver": 0,
            "isPrivate": False, "magnetLink": f"magnet:?xt=urn:btih:{t['id']:040x}",
            "files": [{"name": HOSTILE["file"], "length": t["totalSize"],
                       "bytesCompleted": t["sizeWhenDone"] - t["leftUntilDone"]}],
            "fileStats": [{"wanted": True, "priority": 0, "bytesCompleted": 0}],
            "peers": [{"address": "127.0.0.2", "port": 6881, "clientName": HOSTILE["client"], "progress": 0.5,
                       "rateToClient": 1000, "rateToPeer": 0, "flagStr": HOSTILE["result"]}],
            "trackerStats": [{"tier": 0, "announce": HOSTILE["announce"], "lastAnnounceResult": HOSTILE["result"],
                              "hasAnnounced": True, "seederCount": 1, "leecherCount": 2}],
        }

    def answer(self, method, args):
        with self.lock:
            if method == "torrent-get":
                return self.torrent_get(args)
            if method == "session-stats":
                return {"downloadSpeed": sum(t["rateDownload"] for t in self.torrents.values()),
                        "uploadSpeed": sum(t["rateUpload"] for t in self.torrents.values()),
                        "torrentCount": len(self.torrents)}
            if method == "session-get":
                return {"rpc-version": 17, "version": "fake", "peer-port": 1}
            if method in ("torrent-start", "torrent-stop"):
                for i in args.get("ids", []):
                    if i in self.torrents:
                        self.torrents[i]["status"] = 0 if method == "torrent-stop" else 4
                return {}
            if method == "torrent-remove":
                for i in args.get("ids", []):
                    if self.torrents.pop(i, None) is not None:
                        self.removed.append(i)
                return {}
            if method == "torrent-set":
                return {}
            return None

    def torrent_get(self, args):
        fields = args.get("fields", [])
        ids = args.get("ids")
        if ids == "recently-active":
            chosen = self.rng.sample(sorted(self.torrents), min(self.changes_per_poll, len(self.torrents)))
            for i in chosen:
                t = self.torrents[i]
                if t["status"] == 4:
                    t["percentDone"] = min(1.0, t["percentDone"] + 0.01)
                    t["leftUntilDone"] = int(t["sizeWhenDone"] * (1 - t["percentDone"]))
                t["rateUpload"] = self.rng.randrange(0, 1 << 20)
            selected = [self.torrents[i] for i in chosen]
            removed, self.removed = self.removed, []
        else:
            wanted = self.torrents.keys() if ids is None else [i for i in ids if i in self.torrents]
            selected = [self.torrents[i] for i in wanted]
            removed = None
        detailed = any(f in fields for f in ("files", "peers", "trackerStats", "pieces"))
        out = []
        for t in selected:
            source = self.details(t) if detailed else t
            out.append({f: source[f] for f in fields if f in source})
        result = {"torrents": out}
        if removed is not None:
            result["removed"] = removed
        return result


def make_handler(fake, web_root):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            if self.path != "/transmission/rpc":
                return self.send_error(404)
            if self.headers.get("X-Transmission-Session-Id") != SESSION_ID:
                self.send_response(409)
                self.send_header("X-Transmission-Session-Id", SESSION_ID)
                self.send_header("Content-Length", "0")
                return self.end_headers()
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            arguments = fake.answer(request.get("method"), request.get("arguments", {}))
            body = json.dumps({"result": "success" if arguments is not None else "method not recognized",
                               "arguments": arguments or {}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            name = self.path.split("?", 1)[0].lstrip("/") or "index.html"
            path = os.path.realpath(os.path.join(web_root, name))
            if not path.startswith(os.path.realpath(web_root) + os.sep) or not os.path.isfile(path):
                return self.send_error(404)
            with open(path, "rb") as f:
                body = f.read()
            kind = "text/javascript" if path.endswith(".js") else mimetypes.guess_type(path)[0]
            self.send_response(200)
            self.send_header("Content-Type", kind or "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def serve(fake, web_root, port=0):
    """Starts the server on a thread; returns it (its .server_port is the port)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(fake, web_root))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--torrents", type=int, default=10000)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--web-root", default=os.path.join(os.path.dirname(__file__), "..", "..", "web"))
    args = parser.parse_args()
    http = serve(FakeTransmission(args.torrents), args.web_root, args.port)
    print(f"http://127.0.0.1:{http.server_port}/", flush=True)
    threading.Event().wait()
