#!/usr/bin/env bash
# Sustained load, end to end: a release `warden serve` on a fresh data directory, offered simulated
# events at a fixed rate; reports intake latency, each log consumer's lag and the server's memory.
#   ./scripts/bench_sustained.sh [rate] [seconds]      (default 50000 events/s for 600 s)
# SERVE_ARGS adds options to `warden serve`, SERVE_ENV environment variables, and SERVE_WRAP a
# command to run it under, such as `SERVE_WRAP="heaptrack -o /tmp/serve"` for a heap profile;
# WARDEN_BIN another build of warden (the default is .build/release/warden), to compare two, and
# SERVE_BIN a build to serve with while WARDEN_BIN's bench drives it (its figures, such as CPU per
# event, on an older server).
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-50000}
seconds=${2:-600}
bin=${WARDEN_BIN:-.build/release/warden}
[ -x "$bin" ] || [ -n "${WARDEN_BIN:-}" ] || swift build -c release --product warden
serve_bin=${SERVE_BIN:-$bin}
work=$(mktemp -d)
trap 'kill -INT ${pid:-$server} 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
echo "machine speed: $(python3 -c 'import time; t=time.time(); s=0
for i in range(20_000_000): s+=i
print(f"a 20M-addition Python loop took {time.time()-t:.2f}s")')"
token=sustained-token-0123456789abcdef
env ${SERVE_ENV:-} WARDEN_BOOTSTRAP_TOKEN=$token ${SERVE_WRAP:-} $serve_bin serve --data-dir "$work/data" --port 18183 --log-level warning ${SERVE_ARGS:-} >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 600); do curl -fs http://127.0.0.1:18183/readyz >/dev/null 2>&1 && break; sleep 0.1; done
sleep 2
# The server's own process, which is not $server when it runs under SERVE_WRAP.
pid=$(pgrep -n -f "$serve_bin serve --data-dir $work/data" || echo $server)
$bin bench ingest --to http://127.0.0.1:18183 --token $token --server-pid $pid --rate "$rate" --duration "$seconds" \
  --batch 1000 --connections 8 --json
echo "database: $(du -sh "$work/data" | cut -f1)"
grep -iE "error|warn" "$work/serve.log" | head -5 || true
