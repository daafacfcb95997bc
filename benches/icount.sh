#!/usr/bin/env bash
# Instructions per operation of the hot paths, ours beside the peers.
#
# Runs benches/benches/icount.rs under valgrind (cachegrind, no cache
# simulation) for two repetition counts of each operation and prints
# (I(N2) - I(N1)) / (N2 - N1): setup and process start/exit cancel out, and the
# counts are the same from run to run (one thread; no timing involved).
#
#   benches/icount.sh                 every operation
#   benches/icount.sh gather2 yield   only the operations whose name contains a word
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
    echo "icount.sh needs valgrind (apt-get install valgrind)" >&2
    exit 1
fi

N1=${ICOUNT_N1:-1000}
N2=${ICOUNT_N2:-3000}

bin=$(cargo bench -p benches --bench icount --no-run 2>&1 |
    sed -n 's/.*Executable .*(\(.*\)).*/\1/p' | tail -n 1)
if [[ -z "$bin" ]]; then
    echo "icount.sh: could not build the icount bench" >&2
    exit 1
fi

count() { # op iters -> instructions executed by the whole process
    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
        "$bin" --op "$1" --iters "$2" 2>&1 |
        sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' | tr -d ,
}

printf '| operation | contender | instructions per op |\n|---|---|---:|\n'
for op in $("$bin" --list); do
    if [[ $# -gt 0 ]]; then
        keep=0
        for word in "$@"; do [[ "$op" == *"$word"* ]] && keep=1; done
        [[ $keep == 1 ]] || continue
    fi
    a=$(count "$op" "$N1")
    b=$(count "$op" "$N2")
    per=$(( (b - a + (N2 - N1) / 2) / (N2 - N1) ))
    printf '| %s | %s | %d |\n' "${op%%/*}" "${op#*/}" "$per"
done
