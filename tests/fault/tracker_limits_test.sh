#!/usr/bin/env bash
# shoal tracker's HTTP front end under connection floods: past --max-http-connections new connections are
# closed at once while the ones already served go on, and the tracker serves again once they close; out of
# file descriptors (ulimit -n), the accept loop backs off instead of spinning (little CPU) and recovers.
source "$(dirname "$0")/../interop/lib.sh"
source "$(dirname "$0")/../interop/peers.sh"

# --- the cap ------------------------------------------------------------------------------------------------
port=$(free_port)
"$SHOAL" tracker --http "127.0.0.1:$port" --no-udp --max-http-connections 8 --max-requests-per-ip 0 \
  >"$WORK/tracker.log" 2>&1 &
wait_port "$port"

$LT_PYTHON - "$port" <<'PY' || fail "connection cap checks failed"
import socket, sys, time

port = int(sys.argv[1])
REQUEST = b"GET /stats HTTP/1.1\r\nHost: t\r\n\r\n"

def ask(s):
    """Sends a keep-alive request; returns the response head, or b'' when the server hung up."""
    s.sendall(REQUEST)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                return b""
            data += chunk
    except (ConnectionResetError, socket.timeout):
        return b""
    return data

held = []
for i in range(8):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if not ask(s).startswith(b"HTTP/1.1 200"):
        print(f"FAIL: connection {i} under the cap was not served")
        sys.exit(1)
    held.append(s)
print("ok: 8 connections served and held open")
closed = 0
for i in range(12):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if ask(s) == b"":
        closed += 1
    s.close()
if closed != 12:
    print(f"FAIL: only {closed} of 12 connections over the cap were closed")
    sys.exit(1)
print("ok: 12 connections over the cap were closed")
if not ask(held[0]).startswith(b"HTTP/1.1 200"):
    print("FAIL: a held connection stopped being served")
    sys.exit(1)
for s in held:
    s.close()
deadline = time.time() + 10
while True:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if ask(s).startswith(b"HTTP/1.1 200"):
        break
    s.close()
    if time.time() > deadline:
        print("FAIL: not serving again after the held connections closed")
        sys.exit(1)
    time.sleep(0.1)
print("ok: served again once the held connections closed")
PY
pass "connection cap"

# --- out of descriptors ---------------------------------------------------------------------------------------
port=$(free_port)
limit=40
bash -c "ulimit -n $limit && exec \"\$0\" tracker --http 127.0.0.1:$port --no-udp --max-requests-per-ip 0" \
  "$SHOAL" >"$WORK/tracker-emfile.log" 2>&1 &
emfile_pid=$!
wait_port "$port"

$LT_PYTHON - "$port" "$emfile_pid" "$limit" <<'PY' || fail "EMFILE checks failed"
import os, socket, sys, time

port, pid, limit = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
tick = os.sysconf("SC_CLK_TCK")

def cpu_seconds():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

def open_fds():
    return len(os.listdir(f"/proc/{pid}/fd"))

held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2 * limit)]
deadline = time.time() + 10
while open_fds() < limit:  # every descriptor taken: the next accept fails with EMFILE
    if time.time() > deadline:
        print(f"FAIL: the tracker holds {open_fds()} descriptors, never reached its limit of {limit}")
        sys.exit(1)
    time.sleep(0.05)
before = cpu_seconds()
time.sleep(2)
used = cpu_seconds() - before
print(f"CPU while out of descriptors: {used:.2f} s in 2 s")
if used > 0.5:
    print("FAIL: the accept loop spins on EMFILE")
    sys.exit(1)
print("ok: the accept loop backs off on EMFILE")
for s in held:
    s.close()
deadline = time.time() + 10
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /stats HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        if s.recv(100).startswith(b"HTTP/1.1 200"):
            break
    except OSError:
        pass
    if time.time() > deadline:
        print("FAIL: not serving again after descriptors were freed")
        sys.exit(1)
    time.sleep(0.1)
print("ok: serving again once descriptors are free")
PY
pass "EMFILE: backs off and recovers"
kill -TERM "$emfile_pid"
wait "$emfile_pid" || fail "tracker did not exit cleanly after EMFILE"
finish
