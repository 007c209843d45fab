#!/usr/bin/env bash
# Regenerates cmd/bunsan/default.pgo, the CPU profile `go build` uses for
# profile-guided optimisation of the bunsan binary (inlining and
# devirtualisation of the hot path; see docs/performance.md). Run it after
# changes to the request path; it needs nginx (the backends) and wrk (the
# load), both of which ../shared/bench installs.
#
# The workload is the bench's HTTP scenarios in small: keep-alive and a
# new connection per request, 100-byte responses, through two backends.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
for tool in nginx wrk; do
  command -v $tool >/dev/null || { echo "pgo.sh needs $tool" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/logs"
cat > "$work/backend.conf" <<CONF
daemon off; worker_processes 1; pid $work/logs/be.pid; error_log $work/logs/be.err warn;
events { worker_connections 4096; }
http { access_log off;
  server { listen 127.0.0.1:22101; listen 127.0.0.1:22102; keepalive_requests 1000000;
    location / { return 200 "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"; } } }
CONF
cat > "$work/proxy.conf" <<CONF
worker_processes 1; pid $work/logs/proxy.pid; error_log $work/logs/error.log warn;
events { worker_connections 16384; }
http { access_log off;
  upstream backends { server 127.0.0.1:22101; server 127.0.0.1:22102; keepalive 100; }
  server { listen 127.0.0.1:22080; keepalive_requests 1000000;
    location / { proxy_pass http://backends; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
CONF
# Built without a profile, so that the new one describes plain code.
go build -pgo=off -o "$work/bunsan" ./cmd/bunsan
nginx -c "$work/backend.conf" -p "$work/" &
sleep 0.5
for mode in keepalive close; do
  hdr=()
  [ $mode = close ] && hdr=(-H "Connection: close")
  GOMAXPROCS=1 BUNSAN_CPUPROFILE="$work/$mode.prof" "$work/bunsan" -p "$work/" -c "$work/proxy.conf" &
  p=$!
  for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/22080) 2>/dev/null && break; sleep 0.1; done
  wrk -t1 -c50 -d10s "${hdr[@]}" http://127.0.0.1:22080/ | grep -E "Requests/sec"
  kill $p
  wait $p || true
done
go tool pprof -proto "$work/keepalive.prof" "$work/close.prof" > cmd/bunsan/default.pgo
echo "wrote cmd/bunsan/default.pgo"
