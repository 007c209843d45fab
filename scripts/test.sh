#!/usr/bin/env bash
# Runs every check and test of bunsan. On a fresh machine it first installs
# what the tests need (Debian's nginx, to compare behaviour against).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

# Debian packages the tests use: nginx (differential tests), pebble (a test
# ACME server) and chromium (the dashboard's browser test).
need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-core libnginx-mod-stream)
command -v pebble >/dev/null 2>&1 || need+=(pebble)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    # Debian starts the packaged nginx; the tests run their own.
    (systemctl stop nginx 2>/dev/null || service nginx stop 2>/dev/null || pkill -x nginx || true) >/dev/null 2>&1
  else
    echo "missing ${need[*]}: the tests that need them will skip (run as root to install them)" >&2
  fi
fi
# Where the tools are installed, a test that cannot find them fails
# instead of skipping.
command -v chromium >/dev/null 2>&1 && export BUNSAN_REQUIRE_BROWSER=1

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== go test -race"
go test -race -count=1 -timeout 10m ./...

# A count, not a duration: a time-bound fuzz run can end with "context
# deadline exceeded" when the deadline meets a worker mid-run, which would
# make CI flaky.
echo "== fuzz (brief)"
for target in $(grep -rhoE '^func (Fuzz[A-Za-z0-9_]+)' --include='*_test.go' internal | sed 's/func //'); do
  pkg=$(grep -rlE "^func $target\(" --include='*_test.go' internal | head -1 | xargs dirname)
  go test -run '^$' -fuzz "^$target\$" -fuzztime "${FUZZTIME:-100000x}" -fuzzminimizetime 100x "./$pkg"
done
echo "== all tests passed"
