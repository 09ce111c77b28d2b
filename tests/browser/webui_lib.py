"""Shared pieces of the browser tests: servers on 127.0.0.1, a Shoal seeder, an RPC client and headless Chromium.

Nothing here reaches beyond loopback: the servers bind 127.0.0.1 with DHT, LPD, uTP, PEX and port mapping off,
the seeder runs without DHT and LSD, and Chromium resolves no host name but 127.0.0.1.
"""

import base64
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77  # ctest's SKIP_RETURN_CODE for these tests
SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHOAL_WEB = os.path.join(SOURCE_DIR, "web")
TRANSMISSION_WEB = "/usr/share/transmission/web"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


class Failure(Exception):
    pass


class Skip(Exception):
    pass


class Checks:
    """Counts checks and prints the closing line ctest readers understand."""

    def __init__(self):
        self.passed = 0
        self.started = time.monotonic()

    def ok(self, what):
        self.passed += 1
        print(f"ok: {what} (at {time.monotonic() - self.started:.1f}s)", flush=True)

    def expect(self, condition, what, detail=""):
        if not condition:
            raise Failure(f"{what}{': ' + detail if detail else ''}")
        self.ok(what)


def run_main(body):
    """Runs a test body: 'N passed, 0 failed' on success, exit 77 on a skip, 1 on a failure."""
    checks = Checks()
    try:
        body(checks)
    except Skip as skip:
        print(f"skipped: {skip}")
        sys.exit(SKIP)
    except Failure as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        print(f"{checks.passed} passed, 1 failed")
        sys.exit(1)
    print(f"{checks.passed} passed, 0 failed")


def wait_until(what, predicate, timeout=60.0, interval=0.2):
    """Polls predicate until it returns a true value (returned); fails with `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Failure:
            raise
        except Exception as error:  # a transient browser or RPC hiccup: try again until the deadline
            last_error = error
        time.sleep(interval)
    raise Failure(f"timed out after {timeout:.0f}s waiting for {what}" + (f" (last error: {last_error})" if last_error else ""))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30.0, process=None):
    """Waits until 127.0.0.1:port accepts; fails at once if `process` (a Popen) has exited meanwhile."""
    def accepts():
        if process is not None and process.poll() is not None:
            raise Failure(f"{process.args[0]} exited with {process.returncode} before listening on {port}")
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    wait_until(f"something listening on 127.0.0.1:{port}", accepts, timeout)


def make_bytes(size, seed):
    return random.Random(seed).randbytes(size)


# ------------------------------------------------------------------------------------------------------ RPC


class Rpc:
    """A Transmission RPC client with the X-Transmission-Session-Id handshake."""

    def __init__(self, url):
        self.url = url
        self.session_id = ""

    def call(self, method, **arguments):
        body = json.dumps({"method": method, "arguments": arguments}).encode()
        for _ in range(3):
            request = urllib.request.Request(self.url, data=body, method="POST", headers={
                "Content-Type": "application/json", "X-Transmission-Session-Id": self.session_id})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    answer = json.load(response)
            except urllib.error.HTTPError as error:
                if error.code == 409:
                    self.session_id = error.headers.get("X-Transmission-Session-Id", "")
                    continue
                raise Failure(f"RPC {method}: HTTP {error.code}")
            if answer.get("result") != "success":
                raise Failure(f"RPC {method}: {answer.get('result')}")
            return answer.get("arguments", {})
        raise Failure(f"RPC {method}: session id refused three times")

    def torrents(self, *fields):
        return self.call("torrent-get", fields=["id", "name", *fields])["torrents"]

    def torrent_named(self, name, *fields):
        return next((t for t in self.torrents(*fields) if t["name"] == name), None)


# -------------------------------------------------------------------------------------------------- servers


class Processes:
    """Child processes of one test, each in its own process group, ended on exit."""

    def __init__(self, work):
        self.work = work
        self.children = []

    def start(self, name, argv, env=None):
        log = open(os.path.join(self.work, f"{name}.log"), "ab")
        child = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.children.append((name, child))
        return child

    def stop(self, child):
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()

    def log_tail(self, name, lines=20):
        try:
            with open(os.path.join(self.work, f"{name}.log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def close(self):
        for _, child in reversed(self.children):
            self.stop(child)


class Server:
    """An RPC server under test. `page_url(ui)` is where the browser loads the given web UI from."""

    rpc: Rpc
    download_dir: str

    def peer_port(self):
        return self.rpc.call("session-get")["peer-port"]


class TransmissionServer(Server):
    """transmission-daemon 3.00 with its own config; TRANSMISSION_WEB_HOME picks which web UI it serves."""

    def __init__(self, procs, work, web_root):
        if not shutil.which("transmission-daemon"):
            raise Skip("transmission-daemon is not installed")
        conf = os.path.join(work, "transmission-config")
        self.download_dir = os.path.join(work, "downloads")
        os.makedirs(conf)
        os.makedirs(self.download_dir)
        rpc_port, peer_port = free_port(), free_port()
        settings = {
            "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1", "rpc-bind-address": "127.0.0.1",
            "rpc-port": rpc_port, "rpc-authentication-required": False, "rpc-whitelist-enabled": False,
            "rpc-host-whitelist-enabled": False, "peer-port": peer_port, "peer-port-random-on-start": False,
            "port-forwarding-enabled": False, "dht-enabled": False, "lpd-enabled": False, "pex-enabled": False,
            "utp-enabled": False, "download-dir": self.download_dir, "incomplete-dir-enabled": False,
            "speed-limit-up-enabled": False, "speed-limit-down-enabled": False, "ratio-limit-enabled": False,
            "idle-seeding-limit-enabled": False, "message-level": 2,
        }
        with open(os.path.join(conf, "settings.json"), "w") as f:
            json.dump(settings, f)
        env = dict(os.environ, TRANSMISSION_WEB_HOME=web_root)
        daemon = procs.start("transmission", ["transmission-daemon", "-f", "-g", conf, "-T", "-O", "-Y", "-M", "--no-utp",
                                     "-r", "127.0.0.1", "-i", "127.0.0.1", "-p", str(rpc_port),
                                     "-P", str(peer_port), "-w", self.download_dir], env=env)
        wait_port(rpc_port, process=daemon)
        self.base = f"http://127.0.0.1:{rpc_port}"
        self.rpc = Rpc(f"{self.base}/transmission/rpc")
        wait_until("transmission RPC", lambda: self.rpc.call("session-get"), 30)

    def page_url(self):
        return f"{self.base}/transmission/web/"


class ShoalServer(Server):
    """`shoal daemon` serving the web root at / and the RPC at /transmission/rpc."""

    def __init__(self, procs, work, web_root):
        shoal = os.environ.get("SHOAL", "")
        if not shoal or not os.access(shoal, os.X_OK):
            raise Skip("no shoal binary (set SHOAL)")
        # `shoal daemon --help` would print the top-level help and succeed; the subcommand list is the truth.
        listing = subprocess.run([shoal, "--help"], capture_output=True, text=True).stdout
        if not re.search(r"^\s+daemon\s", listing, re.MULTILINE):
            raise Skip(f"{shoal} has no daemon command yet")
        conf = os.path.join(work, "shoal-config")
        self.download_dir = os.path.join(work, "downloads")
        os.makedirs(conf)
        os.makedirs(self.download_dir)
        rpc_port = free_port()
        with open(os.path.join(conf, "settings.json"), "w") as f:
            json.dump({"listen-address": "127.0.0.1"}, f)
        extra = os.environ.get("SHOAL_DAEMON_ARGS", "").split()
        daemon = procs.start("shoal-daemon", [shoal, "daemon", "--config-dir", conf, "--download-dir", self.download_dir,
                                     "--rpc", f"127.0.0.1:{rpc_port}", "--web-root", web_root, "--foreground",
                                     "--no-dht", "--no-lsd", *extra])
        wait_port(rpc_port, process=daemon)
        self.base = f"http://127.0.0.1:{rpc_port}"
        self.rpc = Rpc(f"{self.base}/transmission/rpc")
        wait_until("shoal RPC", lambda: self.rpc.call("session-get"), 30)
        # Loopback only: whatever the daemon's defaults, the test turns off every way to reach other hosts.
        self.rpc.call("session-set", **{"dht-enabled": False, "lpd-enabled": False, "pex-enabled": False,
                                        "utp-enabled": False, "port-forwarding-enabled": False})

    def page_url(self):
        # Transmission's web client posts to '../rpc', which from / is /rpc: where the daemon also serves the
        # web root under /transmission/web/ (as transmission-daemon does) that path reaches /transmission/rpc.
        try:
            with urllib.request.urlopen(f"{self.base}/transmission/web/", timeout=5) as response:
                if response.status == 200:
                    return f"{self.base}/transmission/web/"
        except (urllib.error.URLError, OSError):
            pass
        return f"{self.base}/"


def start_server(kind, procs, work, web_root):
    if kind == "transmission":
        return TransmissionServer(procs, work, web_root)
    if kind == "shoal":
        return ShoalServer(procs, work, web_root)
    raise Failure(f"unknown server {kind!r}")


def shoal_binary():
    """The shoal command line for `create` and `seed`: $SHOAL, else the release or debug build of this tree."""
    for candidate in (os.environ.get("SHOAL", ""),
                      os.path.join(SOURCE_DIR, "build/release/apps/shoal/shoal"),
                      os.path.join(SOURCE_DIR, "build/debug/apps/shoal/shoal")):
        if candidate and os.access(candidate, os.X_OK) and os.path.isfile(candidate):
            return candidate
    raise Skip("no shoal binary to create and seed torrents (set SHOAL)")


def start_seeder(procs, shoal, pairs, peer):
    """`shoal seed` of (torrent, data_dir) pairs on 127.0.0.1, dialling the server's peer port itself:
    Transmission ignores tracker peers on 127.0.0.0/8, so the seeder connects rather than waits."""
    port = free_port()
    argv = [shoal, "seed", "--no-dht", "--no-lsd", "--listen", "127.0.0.1", "--port", str(port), "-q"]
    for torrent, data in pairs:
        argv += [torrent, data]
    argv += ["--peer", peer]  # last: it takes every value that follows
    child = procs.start("seeder", argv)
    wait_port(port, process=child)
    return child


# -------------------------------------------------------------------------------------------------- browser

# Records alert(), confirm() and prompt() instead of showing them: an injected handler would land here.
ALERT_HOOK = """
window.__dialogs = [];
for (const name of ['alert', 'confirm', 'prompt']) {
  window[name] = (message) => { window.__dialogs.push(name + ':' + String(message)); return null; };
}
"""


def start_browser(width=1280, height=900):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        raise Skip("python3-selenium is not installed")
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            raise Skip(f"{path} is not installed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--window-size={width},{height}", "--no-first-run", "--no-default-browser-check",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--disable-domain-reliability", "--disable-breakpad",
                 "--disable-client-side-phishing-detection", "--metrics-recording-only",
                 "--disable-features=Translate,OptimizationHints,MediaRouter",
                 # No host name resolves: the pages live on 127.0.0.1 and nothing may leave it.
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": ALERT_HOOK})
    return driver


def no_dialogs_opened(driver):
    """True when no alert/confirm/prompt ran and no native dialog is open."""
    from selenium.common.exceptions import NoAlertPresentException

    try:
        driver.switch_to.alert
        return False
    except NoAlertPresentException:
        pass
    return driver.execute_script("return window.__dialogs.length") == 0


def console_errors(driver):
    """The page's console errors and failed loads since the last call (Chromium's browser log), less the
    409 that starts every RPC session: Chromium logs it, and the page answers it by design."""
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and "status of 409" not in entry["message"]]


def save_screenshot(driver, work, name):
    """Screenshots go next to the test's work folder when SHOAL_SCREENSHOTS names a folder to keep them."""
    folder = os.environ.get("SHOAL_SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        driver.save_screenshot(os.path.join(folder, f"{name}.png"))


def temp_work():
    return tempfile.mkdtemp(prefix="shoal-browser.")


def b64(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()
