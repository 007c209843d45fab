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
. "$(dirname "$0")/lib/rig.sh"
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
for tool in nginx wrk; do
  command -v $tool >/dev/null || { echo "pgo.sh needs $tool" >&2; exit 1; }
done
rig_setup
# Built without a profile, so that the new one describes plain code.
go build -pgo=off -o "$work/bunsan" ./cmd/bunsan
nginx -c "$work/backend.conf" -p "$work/" &
sleep 0.5
for mode in keepalive close; do
  hdr=()
  [ $mode = close ] && hdr=(-H "Connection: close")
  GOMAXPROCS=1 BUNSAN_CPUPROFILE="$work/$mode.prof" "$work/bunsan" -p "$work/" -c "$work/proxy.conf" &
  p=$!
  rig_wait
  wrk -t1 -c50 -d10s "${hdr[@]}" http://127.0.0.1:22080/ | grep -E "Requests/sec"
  kill $p
  wait $p || true
done
go tool pprof -proto "$work/keepalive.prof" "$work/close.prof" > cmd/bunsan/default.pgo
echo "wrote cmd/bunsan/default.pgo"
