#!/usr/bin/env bash
# Scale-out on an existing engine: two `scale-advisor serve --http` replicas behind nginx, all on
# loopback, with nginx running deploy/nginx.conf itself (ports substituted). wrk drives stateless
# MCP tools/call requests (tools_call.lua) through nginx:
#   1. steady load: requests per second, p99 latency, and how nginx spread them;
#   2. a rolling restart under load: each replica in turn gets SIGTERM (it drains and must exit
#      0), then comes back on its port, while wrk keeps going.
# Fails unless every request of both phases was answered with a result: no socket error, no
# non-200 status, no JSON-RPC error. Installs nginx and wrk from Debian if they are missing.
#
#   LOAD_DURATION=10 LOAD_CONNECTIONS=64 tests/http/nginx_load.sh
#   SCALE_ADVISOR_BIN=path/to/scale-advisor   # default: cargo build --release
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
duration=${LOAD_DURATION:-10}
connections=${LOAD_CONNECTIONS:-64}
threads=2
rolling_duration=$((duration > 12 ? duration : 12))

if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null || ! command -v curl >/dev/null; then
    echo "== installing nginx, wrk and curl (Debian)"
    apt-get update -qq
    # nginx-light where the release still has it (Debian 12), else nginx.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk curl >/dev/null ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx wrk curl >/dev/null
fi

bin=${SCALE_ADVISOR_BIN:-}
if [ -z "$bin" ]; then
    (cd "$root" && cargo build --quiet --release -p scale-advisor)
    bin="$root/target/release/scale-advisor"
fi

tmp=$(mktemp -d)
chmod 755 "$tmp"
declare -A replica_pid replica_port
nginx_pid=
wrk_pid=
cleanup() {
    [ -n "$wrk_pid" ] && kill "$wrk_pid" 2>/dev/null || true
    [ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null || true
    for n in "${!replica_pid[@]}"; do
        kill -TERM "${replica_pid[$n]}" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "!! $*" >&2
    exit 1
}

# start_replica N [PORT]: port 0 (a free one) unless given; waits for the announcement.
start_replica() {
    local n=$1 port=${2:-0} log="$tmp/replica$1.log"
    : >"$log"
    "$bin" serve --http "127.0.0.1:$port" 2>>"$log" &
    replica_pid[$n]=$!
    local url=
    for _ in $(seq 1 200); do
        url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/mcp' "$log" | head -n 1 || true)
        [ -n "$url" ] && break
        kill -0 "${replica_pid[$n]}" 2>/dev/null || fail "replica $n did not start: $(cat "$log")"
        sleep 0.025
    done
    [ -n "$url" ] || fail "replica $n did not announce its address"
    replica_port[$n]=$(echo "$url" | sed -E 's#.*:([0-9]+)/mcp#\1#')
}

# stop_replica N: SIGTERM, and the replica must drain and exit 0.
stop_replica() {
    local n=$1 code=0
    kill -TERM "${replica_pid[$n]}"
    wait "${replica_pid[$n]}" || code=$?
    unset "replica_pid[$n]"
    [ "$code" -eq 0 ] || fail "replica $n exited $code on SIGTERM"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_replica 1
start_replica 2
nginx_port=$(free_port)
echo "== replicas on 127.0.0.1:${replica_port[1]} and 127.0.0.1:${replica_port[2]}; nginx on 127.0.0.1:$nginx_port"

# deploy/nginx.conf as shipped, with this run's ports, inside a minimal main configuration.
sed -e "s/127\.0\.0\.1:8081/127.0.0.1:${replica_port[1]}/" \
    -e "s/127\.0\.0\.1:8082/127.0.0.1:${replica_port[2]}/" \
    -e "s/listen 8080;/listen 127.0.0.1:$nginx_port;/" \
    "$root/deploy/nginx.conf" >"$tmp/scale-advisor.conf"
grep -q "127.0.0.1:$nginx_port" "$tmp/scale-advisor.conf" || fail "deploy/nginx.conf no longer has 'listen 8080;'"
cat >"$tmp/nginx.conf" <<EOF
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/error.log warn;
events { worker_connections 4096; }
http {
    log_format upstream '\$upstream_addr \$status';
    access_log $tmp/access.log upstream buffer=256k flush=1s;
    include $tmp/scale-advisor.conf;
}
EOF
nginx -t -q -p "$tmp" -c "$tmp/nginx.conf"
nginx -p "$tmp" -c "$tmp/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
url="http://127.0.0.1:$nginx_port/mcp"
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$nginx_port/healthz" >/dev/null 2>&1 && break
    sleep 0.05
done

# Both protocol generations answer through nginx before any load.
mcp_headers=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream')
init=$(curl -fsS "$url" "${mcp_headers[@]}" \
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"nginx_load","version":"0"}}}')
echo "$init" | grep -q '"protocolVersion":"2025-11-25"' || fail "initialize through nginx: $init"
lua_body=$(sed -n 's/^wrk.body = \[\[\(.*\)\]\]$/\1/p' "$here/tools_call.lua")
call=$(curl -fsS "$url" "${mcp_headers[@]}" -H 'MCP-Protocol-Version: 2026-07-28' \
    -H 'Mcp-Method: tools/call' -H 'Mcp-Name: diagnose_bottleneck' -d "$lua_body")
echo "$call" | grep -q '"structuredContent"' || fail "tools/call through nginx: $call"
echo "== both protocol generations answer through nginx"

# start_wrk LABEL: wrk for $duration seconds in the background; finish_wrk LABEL waits for it,
# sets rps, p99 and total, and fails unless every request was answered.
start_wrk() {
    wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s "$here/tools_call.lua" "$url" \
        >"$tmp/wrk-$1.txt" 2>&1 &
    wrk_pid=$!
}
finish_wrk() {
    local label=$1 out="$tmp/wrk-$1.txt"
    wait "$wrk_pid" || fail "wrk failed: $(cat "$out")"
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p99=$(awk '$1 == "99%" {print $2}' "$out")
    p50=$(awk '$1 == "50%" {print $2}' "$out")
    total=$(awk '/requests in/ {print $1}' "$out")
    local socket_errors non2xx answered rpc_errors
    socket_errors=$(grep -o 'Socket errors:.*' "$out" || echo "Socket errors: none")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
    answered=$(sed -nE 's/^answered ([0-9]+), non-200 ([0-9]+), jsonrpc-errors ([0-9]+)$/\1/p' "$out")
    rpc_errors=$(sed -nE 's/^answered ([0-9]+), non-200 ([0-9]+), jsonrpc-errors ([0-9]+)$/\2 \3/p' "$out")
    echo "-- $label: $total requests in ${duration}s, $rps requests/s, p50 $p50, p99 $p99"
    echo "   answered $answered; $socket_errors; non-2xx ${non2xx:-0}; non-200/jsonrpc errors ${rpc_errors:-?}"
    if [ "$socket_errors" != "Socket errors: none" ] || [ -n "$non2xx" ] || [ "$rpc_errors" != "0 0" ] ||
        [ "$answered" != "$total" ]; then
        cat "$out" >&2
        sleep 1.2 # the access log flushes every second
        echo "statuses through nginx (upstream, status):" >&2
        grep -v ' 200$' "$tmp/access.log" | sort | uniq -c | head -n 20 >&2 || true
        echo "nginx error log:" >&2
        tail -n 20 "$tmp/error.log" >&2 || true
        fail "$label: not every request was answered"
    fi
}

echo
echo "== phase 1: steady load, $connections connections, ${duration}s"
start_wrk steady
finish_wrk steady
steady_rps=$rps steady_p99=$p99 steady_total=$total
sleep 1.2 # the access log flushes every second
spread=$(awk '{print $1}' "$tmp/access.log" | sort | uniq -c | awk '{printf "%s%s: %s", sep, $2, $1; sep=", "}')
echo "   nginx spread: $spread"
for n in 1 2; do
    grep -q "127.0.0.1:${replica_port[$n]}" "$tmp/access.log" || fail "replica $n received no request"
done

# nginx takes a failed replica back only after fail_timeout (5 s in deploy/nginx.conf): restart
# the replicas one at a time, further apart than that, as a rolling deployment would.
echo
echo "== phase 2: rolling restart under load, $connections connections, ${rolling_duration}s"
saved_duration=$duration
duration=$rolling_duration
start_wrk rolling
sleep 2
for n in 1 2; do
    port=${replica_port[$n]}
    stop_replica "$n"
    echo "   replica $n drained and exited 0; restarting on port $port"
    start_replica "$n" "$port"
    [ "$n" = 2 ] || sleep 6.5
done
finish_wrk rolling
duration=$saved_duration
rolling_rps=$rps rolling_p99=$p99 rolling_total=$total

stop_replica 1
stop_replica 2
echo
echo "== load through nginx, 2 replicas, $connections connections, wrk ${duration}s steady, ${rolling_duration}s rolling"
echo "steady:  $steady_total requests, $steady_rps requests/s, p99 $steady_p99, 0 errors"
echo "rolling: $rolling_total requests, $rolling_rps requests/s, p99 $rolling_p99, 0 errors (both replicas restarted)"
