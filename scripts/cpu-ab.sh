#!/usr/bin/env bash
# CPU per proxied request, user and system, for bunsan binaries side by
# side (and nginx, named "nginx"): the rig behind docs/performance.md's
# third step. Each run starts the proxy pinned to CPU 0 with one worker,
# warms it up for 1 s and reads its /proc/PID/stat over a 4 s wrk run on
# CPU 1 (-t1 -c50, 100-byte responses from two nginx backends, keep-alive
# to them); runs alternate between the binaries and the medians are
# printed. With SYSCALLS=1 it also counts system calls per request with
# `perf stat` (tracepoints: no slowdown as with strace).
#
#   scripts/cpu-ab.sh [-r RUNS] [-m keepalive|close] [-l LISTEN-PARAMS] BIN|nginx ...
#
# -l adds parameters to the proxy's listen directive for every proxy
# alike (e.g. -l deferred).
#
# It needs nginx, wrk and taskset (and perf for SYSCALLS=1). Timings are
# for comparing binaries in one invocation, never for pass/fail.
set -euo pipefail
runs=5 mode=keepalive
while getopts r:m:l: o; do
  case $o in r) runs=$OPTARG ;; m) mode=$OPTARG ;; l) RIG_LISTEN=$OPTARG ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "usage: $0 [-r RUNS] [-m keepalive|close] [-l LISTEN-PARAMS] BIN|nginx ..." >&2; exit 2; }
for tool in nginx wrk taskset; do
  command -v $tool >/dev/null || { echo "cpu-ab.sh needs $tool" >&2; exit 1; }
done
hdr=()
[ "$mode" = close ] && hdr=(-H "Connection: close")
. "$(dirname "$0")/lib/rig.sh"
rig_setup
taskset -c 1 nginx -c "$work/backend.conf" -p "$work/" &
sleep 0.5
load() { taskset -c 1 wrk -t1 -c50 -d"$1" "${hdr[@]}" http://127.0.0.1:22080/small; }
for i in $(seq "$runs"); do
  for bin in "$@"; do
    if [ "$bin" = nginx ]; then cmd=(nginx); else cmd=("$bin"); fi
    taskset -c 0 "${cmd[@]}" -p "$work/" -c "$work/proxy.conf" &
    p=$!
    rig_wait
    load 1s >/dev/null
    pid=$(pgrep -P $p -n || echo $p)
    read -r u1 s1 < <(awk '{print $14, $15}' /proc/$pid/stat)
    if [ "${SYSCALLS:-}" = 1 ]; then
      perf stat -e 'syscalls:sys_enter_*' -p "$pid" -o "$work/sc.out" -- sleep 4.2 &
      sc=$!
    fi
    n=$(load 4s | awk '/requests in/{print $1}')
    read -r u2 s2 < <(awk '{print $14, $15}' /proc/$pid/stat)
    if [ "${SYSCALLS:-}" = 1 ]; then
      wait $sc || true
      awk -v n="$n" -v b="$bin" '$1 ~ /^[0-9,]+$/ { gsub(",", "", $1); if ($1 / n >= 0.01) printf "  %s %s %.2f/request\n", b, $2, $1 / n }' "$work/sc.out" >&2
    fi
    kill $p; wait $p 2>/dev/null || true
    tick=$(getconf CLK_TCK)
    echo "$bin $n $(( (u2 - u1) )) $(( (s2 - s1) )) $tick" >> "$work/runs"
  done
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
awk '{ u = $3 * 1e6 / $5 / $2; s = $4 * 1e6 / $5 / $2; printf "%s %.2f %.2f %.2f\n", $1, u, s, u + s }' "$work/runs" > "$work/per"
for bin in $(awk '{print $1}' "$work/per" | awk '!seen[$0]++'); do
  printf "%-32s user %5s  sys %5s  total %5s µs/request (median of %s runs)\n" "$bin" \
    "$(awk -v b="$bin" '$1 == b {print $2}' "$work/per" | median)" \
    "$(awk -v b="$bin" '$1 == b {print $3}' "$work/per" | median)" \
    "$(awk -v b="$bin" '$1 == b {print $4}' "$work/per" | median)" \
    "$(awk -v b="$bin" '$1 == b' "$work/per" | wc -l)"
done
