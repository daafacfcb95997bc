#!/usr/bin/env bash
# Load benchmark: the same minimal HTTP/1.1 keep-alive server (net/server.rs)
# on our runtime (current-thread; multi-thread with 2 workers), on tokio (both
# flavours) and on smol (one executor thread; two), each driven in turn by
# wrk on 127.0.0.1. The servers alternate, and each round starts at the next
# one, so that noise on the machine hits all alike. Prints requests/s, p99
# latency and the server's CPU time per request (user + system, from
# /proc/PID/stat: less sensitive to a busy machine than requests/s) per server
# (mean over the rounds), then ours / best peer per flavour.
#
# Usage: benches/net/run.sh [SECONDS_PER_RUN=5] [ROUNDS=2] [CONNECTIONS=64] [WRK_THREADS=2]
# Installs Debian's wrk with apt-get when it is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${1:-5}
ROUNDS=${2:-2}
CONNECTIONS=${3:-64}
WRK_THREADS=${4:-2}
PORT_BASE=${PORT_BASE:-18180}
SERVERS=(ours-current tokio-current smol-1 ours-multi tokio-multi smol-2)

if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk not found: installing Debian's package"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk
fi

cargo build --release -q -p benches --bin net-server
BIN=target/release/net-server
# Under target/, not /tmp: other jobs on a shared machine may clean /tmp.
WORK=target/net-bench
mkdir -p "$WORK"
RESULTS="$WORK/results"
: > "$RESULTS"

# wrk prints latencies as 850.00us, 1.20ms or 1.02s: in milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
        else { print "nan" } }'
}

run=0
n=${#SERVERS[@]}
for round in $(seq 1 "$ROUNDS"); do
    for i in $(seq 0 $((n - 1))); do
        server=${SERVERS[$(((i + round - 1) % n))]}
        port=$((PORT_BASE + run))
        run=$((run + 1))
        "$BIN" "$server" "$port" > "$WORK/server.log" 2>&1 &
        pid=$!
        for _ in $(seq 1 100); do
            grep -q listening "$WORK/server.log" && break
            sleep 0.1
        done
        if ! wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency \
            "http://127.0.0.1:$port/" > "$WORK/wrk.out" 2>&1; then
            echo "wrk failed against $server:"; cat "$WORK/wrk.out" "$WORK/server.log"
            kill "$pid" 2>/dev/null || true
            exit 1
        fi
        ticks=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat")
        kill "$pid"
        wait "$pid" 2>/dev/null || true
        reqs=$(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk.out")
        cpu=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v r="$reqs" -v d="$DURATION" \
            'BEGIN { printf "%.2f", t / hz * 1e6 / (r * d) }')
        p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$WORK/wrk.out")")
        errors=$(awk '/Non-2xx|Socket errors/ {print}' "$WORK/wrk.out" | tr '\n' ' ')
        printf 'round %d  %-14s %12s req/s  p99 %8s ms  CPU %6s us/req  %s\n' \
            "$round" "$server" "$reqs" "$p99" "$cpu" "$errors"
        echo "$server $reqs $p99 $cpu" >> "$RESULTS"
    done
done

echo
echo "wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s, $ROUNDS rounds, $(nproc) cores; mean over rounds:"
awk '
{ reqs[$1] += $2; p99[$1] += $3; cpu[$1] += $4; runs[$1] += 1 }
END {
    printf "| server | requests/s | p99 (ms) | server CPU (µs/request) |\n|---|---:|---:|---:|\n"
    split("ours-current tokio-current smol-1 ours-multi tokio-multi smol-2", order, " ")
    for (i = 1; i <= 6; i++) {
        s = order[i]
        r[s] = reqs[s] / runs[s]; l[s] = p99[s] / runs[s]; c[s] = cpu[s] / runs[s]
        printf "| %s | %.0f | %.2f | %.2f |\n", s, r[s], l[s], c[s]
    }
    print ""
    split("current:ours-current:tokio-current:smol-1 multi:ours-multi:tokio-multi:smol-2", flavours, " ")
    for (f = 1; f <= 2; f++) {
        split(flavours[f], p, ":")
        best = (r[p[3]] >= r[p[4]]) ? p[3] : p[4]
        low = (l[p[3]] <= l[p[4]]) ? p[3] : p[4]
        lean = (c[p[3]] <= c[p[4]]) ? p[3] : p[4]
        printf "%s-thread: ours / best peer: requests/s %.2f (%s), p99 %.2f (%s), CPU per request %.2f (%s)\n",
            p[1], r[p[2]] / r[best], best, l[p[2]] / l[low], low, c[p[2]] / c[lean], lean
    }
}' "$RESULTS"
