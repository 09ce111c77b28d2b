#!/usr/bin/env bash
# The sans-I/O rule, checked: shoal_core's modules include no networking, threading or file-system headers,
# and no module includes one to its right in the dependency order.
set -euo pipefail
cd "$(dirname "$0")/../src"
core_modules="bencode hash metainfo magnet wire swarm tracker webseed torrent dht lsd nat utp crypto"
forbidden='#include <(boost/|asio|thread>|mutex>|condition_variable>|future>|filesystem>|fstream>|sys/socket|unistd\.h|fcntl\.h)'
bad=0
for m in $core_modules; do
  [ -d "$m" ] || continue
  if grep -rnE "$forbidden" "$m"; then
    echo "FAIL: core module '$m' includes an I/O or threading header (above)" >&2
    bad=1
  fi
done
# bencode is the bottom of the stack: it may include only itself and shoal/ headers.
if grep -rnE '#include "(hash|metainfo|magnet|create|runtime)/' bencode; then
  echo "FAIL: bencode depends on a module above it" >&2
  bad=1
fi
# swarm holds the peer protocol and choker state machines: only modules to its left (and shoal/) below it.
if grep -rnE '#include "(session|net|storage|runtime|server|create|tracker|dht|lsd|utp|rpc)/' swarm; then
  echo "FAIL: swarm depends on a module to its right" >&2
  bad=1
fi
# torrent is one torrent's whole swarm logic (peers, pieces, trackers): built on swarm, wire and tracker, below
# storage and every driver.
if grep -rnE '#include "(session|net|storage|runtime|server|create|dht|lsd|utp|rpc|api)/' torrent; then
  echo "FAIL: torrent depends on a module to its right" >&2
  bad=1
fi
# webseed (BEP 19) turns pieces into HTTP range requests and judges the answers: formats and the redirect
# policy below it, never the torrent, peers or drivers.
if grep -rnE '#include "(session|net|storage|runtime|server|create|wire|swarm|torrent|dht|lsd|utp|crypto|rpc|api)/' webseed; then
  echo "FAIL: webseed depends on a module to its right" >&2
  bad=1
fi
# crypto (MSE/PE) sits beside wire: it hashes, and knows nothing of peers, torrents or drivers.
if grep -rnE '#include "(session|net|storage|runtime|server|create|wire|swarm|torrent|tracker|dht|lsd|utp|rpc|api)/' crypto; then
  echo "FAIL: crypto depends on a module to its right" >&2
  bad=1
fi
# utp (BEP 29) is a transport: packets, connections, congestion control. It needs nothing but shoal/ headers.
if grep -rnE '#include "(bencode|hash|metainfo|magnet|session|net|storage|runtime|server|create|wire|swarm|torrent|tracker|dht|lsd|crypto|nat|rpc|api)/' utp; then
  echo "FAIL: utp depends on another module" >&2
  bad=1
fi
# nat holds the port-mapping lease state machine: it depends on nothing of Shoal's (the router backends that
# call miniupnpc and libnatpmp are net's).
if grep -rnE '#include "(bencode|hash|metainfo|magnet|wire|swarm|tracker|torrent|dht|lsd|utp|crypto|session|net|storage|runtime|server|create|rpc|api)/' nat; then
  echo "FAIL: nat depends on another module" >&2
  bad=1
fi
# The public API is installed alone: its headers include only the standard library and each other (no Boost,
# no src/), so an embedder compiles against include/shoal/ and nothing else.
if grep -nE '#include' ../include/shoal/*.hpp | grep -vE '#include (<[a-z_]+>|"shoal/[a-z_]+\.hpp")'; then
  echo "FAIL: a public header includes something outside the standard library and shoal/ (above)" >&2
  bad=1
fi
[ $bad -eq 0 ] && echo "1 passed, 0 failed"
exit $bad
