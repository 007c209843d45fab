#!/bin/sh
# Blue-green switch through bunsan's upstream API: add the green servers
# beside the blue ones, shift traffic to green in weight steps, then drain
# the blue servers and remove them. No reload, no dropped request.
#
# Usage: blue-green.sh GROUP "BLUE..." "GREEN..."
#   GROUP  the upstream block's name
#   BLUE   the servers serving now, HOST:PORT, space separated
#   GREEN  the new servers, HOST:PORT, space separated; already running
#
# Adapt through the environment:
#   BUNSAN, BUNSAN_API, BUNSAN_USER, HEALTH_PATH, HEALTH_TRIES,
#   DRAIN_TIMEOUT  as in rolling-deploy.sh
#   STEPS          green weights, one step each, blue staying at its
#                  weight (default "1 5 10": about 10%, 50%, 90% of the
#                  traffic with blue at weight 1)
#   STEP_CMD       shell command run after each step, e.g. to watch error
#                  rates; a failure stops the switch with blue still serving
#   KEEP_BLUE      set to 1 to leave blue drained instead of removing it,
#                  for a fast way back ("bunsan ctl enable GROUP SERVER")
set -eu

BUNSAN=${BUNSAN:-bunsan}
BUNSAN_API=${BUNSAN_API:-http://127.0.0.1/api}
HEALTH_PATH=${HEALTH_PATH:-/}
HEALTH_TRIES=${HEALTH_TRIES:-60}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-5m}
STEPS=${STEPS:-1 5 10}

ctl() {
	# BUNSAN_USER reaches ctl through the environment, not the command line.
	"$BUNSAN" ctl -api "$BUNSAN_API" "$@"
}

healthy() {
	curl -fsS -o /dev/null --max-time 2 "http://$1$HEALTH_PATH"
}

if [ $# -ne 3 ]; then
	echo "usage: $0 GROUP \"BLUE...\" \"GREEN...\"" >&2
	exit 2
fi
group=$1 blue=$2 green=$3

# 1. Green must answer before it gets any traffic.
for s in $green; do
	tries=0
	until healthy "$s"; do
		tries=$((tries + 1))
		if [ "$tries" -ge "$HEALTH_TRIES" ]; then
			echo "green server $s is not healthy; nothing was changed" >&2
			exit 1
		fi
		sleep 1
	done
done

# 2. Add green with the first step's weight, then raise it step by step.
first=true
for w in $STEPS; do
	for s in $green; do
		if $first; then
			ctl add "$group" "$s" weight="$w"
		else
			ctl weight "$group" "$s" "$w"
		fi
	done
	first=false
	ctl servers "$group"
	if [ -n "${STEP_CMD:-}" ] && ! sh -c "$STEP_CMD"; then
		echo "step check failed at green weight $w; blue still serves. To go back: for s in $green; do $BUNSAN ctl drain $group \$s; done" >&2
		exit 1
	fi
done

# 3. Drain blue and wait for its last requests, then remove it.
for s in $blue; do
	ctl drain "$group" "$s" -wait -timeout "$DRAIN_TIMEOUT"
done
if [ "${KEEP_BLUE:-0}" != 1 ]; then
	for s in $blue; do
		ctl remove "$group" "$s"
	done
fi
ctl servers "$group"
