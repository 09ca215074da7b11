#!/usr/bin/env bash
# End to end, the token cache as examples/resource_server.rs has it: release builds of `issuer`
# and `resource_server`, the server pinned to core 0 (tokio then runs one worker) and wrk to
# core 1, `/ready` and an ES256-authenticated `/me` alternated. Needs wrk, curl and python3, and
# two free cores; loopback only. ROUNDS (default 6) and DUR (default 4s) set the runs.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-6}
dur=${DUR:-4s}
cargo build --release --quiet --example issuer --example resource_server
bin=target/release/examples
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
BIND=127.0.0.1:3003 taskset -c 1 "$bin/issuer" 2>/dev/null &
pids+=($!)
sleep 1
JWKS_URL=http://127.0.0.1:3003/.well-known/jwks.json JWT_AUDIENCE=demo-api BIND=127.0.0.1:3001 \
    taskset -c 0 "$bin/resource_server" 2>/dev/null &
pids+=($!)
sleep 2
token=$(curl -sf -X POST -H 'content-type: application/json' \
    -d '{"username":"john","password":"secret123"}' http://127.0.0.1:3003/token |
    python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])')
curl -sf -o /dev/null -H "Authorization: Bearer $token" http://127.0.0.1:3001/me
rate() { taskset -c 1 wrk -t1 -c8 -d"$dur" "$@" | awk '/Requests\/sec/ {print $2}'; }
for _ in $(seq "$rounds"); do
    ready=$(rate http://127.0.0.1:3001/ready)
    me=$(rate -H "Authorization: Bearer $token" http://127.0.0.1:3001/me)
    python3 -c "print(f'/ready {float($ready):9.0f}/s   /me {float($me):9.0f}/s   /me / /ready {float($me) / float($ready):.3f}')"
done
if taskset -c 1 wrk -t1 -c8 -d1s -H "Authorization: Bearer $token" http://127.0.0.1:3001/me |
    grep -E 'Non-2xx|Socket errors'; then
    echo "some /me responses were not 2xx" >&2
    exit 1
fi
