#!/usr/bin/env bash
# End-to-end detection latency: a release server takes simulated traffic at a steady rate over HTTP,
# and the time from each event's receipt to its signal being stored is read from the database.
#   ./scripts/e2e_latency.sh [rate] [seconds]      (default 20000 events/s for 20 s)
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-20000}
seconds=${2:-20}
bin=.build/release/warden
[ -x "$bin" ] || swift build -c release --product warden
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
token=e2e-token-0123456789abcdef
WARDEN_BOOTSTRAP_TOKEN=$token $bin serve --data-dir "$work/data" --port 18182 --log-level warning >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -fs http://127.0.0.1:18182/readyz >/dev/null 2>&1 && break; sleep 0.1; done
$bin simulate --to http://127.0.0.1:18182 --token $token --rate "$rate" --duration "${seconds}s" --start now --seed 7 >/dev/null
sleep 2
lag=$(curl -fs http://127.0.0.1:18182/metrics | awk '/^warden_consumer_lag_events\{consumer="entity_graph"\}/ {print $2}')
peak=$(awk '/VmHWM/ {print int($2/1024)}' /proc/$server/status)
sqlite3 "$work/data/warden.sqlite" "
  with l as (select s.created_at - e.received_at as ms from signal s join event e on e.seq = s.event_seq)
  select 'events ' || (select count(*) from event) || ', signals ' || count(*)
    || ', p50 ' || (select ms from l order by ms limit 1 offset (select count(*) / 2 from l))
    || ' ms, p99 ' || (select ms from l order by ms limit 1 offset (select count(*) * 99 / 100 from l))
    || ' ms, max ' || max(ms) || ' ms' from l;"
echo "server peak RSS ${peak} MiB; entity graph lag 2 s after the load: ${lag:-?} events"
