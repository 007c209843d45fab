#!/usr/bin/env bash
# Runs every check and test of bunsan. On a fresh machine it first installs
# what the tests need (Debian's nginx, to compare behaviour against).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing nginx (for differential tests)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-core libnginx-mod-stream >/dev/null
    # Debian starts the packaged service; the tests run their own.
    (systemctl stop nginx 2>/dev/null || service nginx stop 2>/dev/null || pkill -x nginx || true) >/dev/null 2>&1
  else
    echo "nginx is not installed: the differential tests will skip (run as root to install it)" >&2
  fi
fi

# Pebble, a test ACME server, for the ACME end-to-end test.
if ! command -v pebble >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing pebble (for the ACME test)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pebble >/dev/null
  else
    echo "pebble is not installed: the ACME test will skip (run as root to install it)" >&2
  fi
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== go test -race"
go test -race -count=1 -timeout 10m ./...

echo "== fuzz (brief)"
for target in $(grep -rhoE '^func (Fuzz[A-Za-z0-9_]+)' --include='*_test.go' internal | sed 's/func //'); do
  pkg=$(grep -rlE "^func $target\(" --include='*_test.go' internal | head -1 | xargs dirname)
  go test -run '^$' -fuzz "^$target\$" -fuzztime "${FUZZTIME:-10s}" "./$pkg"
done
echo "== all tests passed"
