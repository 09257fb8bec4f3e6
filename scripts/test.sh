#!/usr/bin/env bash
# test.sh: runs every test of ack on a fresh Debian machine, as root. It
# installs and starts what the tests need (PostgreSQL, MariaDB, Node.js and
# npm, Chromium, systemd-analyze), then checks formatting and vet, and runs the whole suite with
# the race detector. ACK_REQUIRE_ALL=1 turns "skipped: missing X" into a
# failure, so a green run means every test really ran.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

log() { echo "test.sh: $*" >&2; }

need=()
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)   # verifies deploy/systemd units
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2; then
		apt-get update -q >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2
	fi
fi
eval "$(scripts/start-databases.sh)"
export ACK_REQUIRE_ALL=1

log "gofmt and go vet"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	log "not gofmt-formatted:"
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...

log "go test"
go test -race -count=1 -timeout 50m "$@" ./...
