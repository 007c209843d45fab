# Sourced by scripts/pgo.sh and scripts/cpu-ab.sh: the load rig's files.
# rig_setup makes $work (removed on exit, with every job started) holding
# backend.conf (nginx: two backends on 127.0.0.1:22101-22102 answering
# 100 bytes) and proxy.conf (the proxy on 127.0.0.1:22080 balancing them
# with keep-alive; nginx syntax, for bunsan and nginx alike; RIG_LISTEN
# adds parameters to its listen directive, e.g. "deferred").
rig_setup() {
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
daemon off; worker_processes 1; worker_rlimit_nofile 20000; pid $work/logs/proxy.pid; error_log $work/logs/error.log warn;
events { worker_connections 16384; }
http { access_log off;
  upstream backends { server 127.0.0.1:22101; server 127.0.0.1:22102; keepalive 100; }
  server { listen 127.0.0.1:22080${RIG_LISTEN:+ $RIG_LISTEN}; keepalive_requests 1000000;
    location / { proxy_pass http://backends; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
CONF
}

# rig_wait waits (up to 5 s) for the proxy's port to accept.
rig_wait() {
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/22080) 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
