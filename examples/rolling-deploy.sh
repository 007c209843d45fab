#!/bin/sh
# Rolling deploy through bunsan's upstream API, one server at a time:
# drain it, wait until its last request has finished, deploy, check its
# health, put it back. Clients see no error as long as the other servers
# can carry the load meanwhile.
#
# Usage: rolling-deploy.sh GROUP SERVER...
#   GROUP   the upstream block's name
#   SERVER  each server as HOST:PORT (as written in the upstream), or its id
#
# Adapt through the environment (or edit deploy/healthy below):
#   BUNSAN         the bunsan binary (default: bunsan on PATH)
#   BUNSAN_API     the API location (default http://127.0.0.1/api); it
#                  needs "api write=on;"
#   BUNSAN_USER    USER:PASSWORD when the location has auth_basic (export it)
#   DEPLOY_CMD     shell command that deploys to one server, given as $1
#                  (e.g. 'ssh "${1%:*}" sudo systemctl restart app');
#                  without it the script only says what it would do
#   HEALTH_PATH    path that answers 2xx when the application is up (default /)
#   HEALTH_TRIES   health checks, one a second, before giving up (default 60)
#   DRAIN_TIMEOUT  longest wait for a server's requests to finish (default 5m)
#
# A server that fails its health check is left drained (it takes no new
# requests) and the script stops, so one bad build never reaches the rest.
set -eu

BUNSAN=${BUNSAN:-bunsan}
BUNSAN_API=${BUNSAN_API:-http://127.0.0.1/api}
HEALTH_PATH=${HEALTH_PATH:-/}
HEALTH_TRIES=${HEALTH_TRIES:-60}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-5m}

ctl() {
	# BUNSAN_USER reaches ctl through the environment, not the command line.
	"$BUNSAN" ctl -api "$BUNSAN_API" "$@"
}

deploy() {
	if [ -n "${DEPLOY_CMD:-}" ]; then
		sh -c "$DEPLOY_CMD" deploy "$1"
	else
		echo "would deploy to $1 (set DEPLOY_CMD)"
	fi
}

healthy() {
	curl -fsS -o /dev/null --max-time 2 "http://$1$HEALTH_PATH"
}

if [ $# -lt 2 ]; then
	echo "usage: $0 GROUP SERVER..." >&2
	exit 2
fi
group=$1
shift

ctl servers "$group"
for server in "$@"; do
	echo "== $server"
	ctl drain "$group" "$server" -wait -timeout "$DRAIN_TIMEOUT"
	deploy "$server"
	tries=0
	until healthy "$server"; do
		tries=$((tries + 1))
		if [ "$tries" -ge "$HEALTH_TRIES" ]; then
			echo "$server is not healthy after the deploy; it stays drained. Fix it, then: $BUNSAN ctl enable $group $server" >&2
			exit 1
		fi
		sleep 1
	done
	ctl enable "$group" "$server"
done
ctl servers "$group"
