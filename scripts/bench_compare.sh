#!/usr/bin/env bash
# bench_compare.sh: mnist-tui's engine against PyTorch on this machine, side by side.
#
# Compute only (no data pipeline): alternating over R rounds (ABBA order, so
# neither side always runs first), it runs
#   go test -run '^$' -bench '^Benchmark(TrainStep|EvalStep)$' -benchtime 200x -count 1 ./engine
#   /usr/bin/python3 scripts/bench_torch.py
# collects their samples/s (batch 64: train = forward + backward + Adam, eval =
# forward only), and prints the median of each and the ratios mnist-tui/PyTorch:
#   train: mnist-tui 12345 samples/s, PyTorch 6500 samples/s, ratio 1.90x
# PyTorch runs on --threads threads (1, as the notebook is measured); the
# engine uses min(GOMAXPROCS, 2) workers (--go-cpu N passes -cpu N to go test).
#
# --full also runs one full default headless run of each, the built mnist-tui
# binary (go build, then --headless --metrics) and scripts/notebook.py
# --metrics, under /usr/bin/time -v, and prints wall time, peak RSS and each
# phase's samples/s side by side.
#
# The figures are wall-clock throughput: on a machine shared with other jobs
# they move with the load, so the load average is printed at start and end,
# and PyTorch's throughput per CPU second of its process (bench_torch.py's
# cpu_samples_per_s) is printed too: the Go benchmark has no such figure.
# PYTHON=... runs another interpreter than /usr/bin/python3.
#
# Usage: scripts/bench_compare.sh [--rounds R] [--benchtime 200x] [--threads 1]
#                                 [--go-cpu N] [--full]
# Needs Go and, for PyTorch (Debian):
#   apt-get install -y python3-torch python3-torchvision libopenblas0-pthread

set -euo pipefail

PY=${PYTHON:-/usr/bin/python3} # PYTHON overrides, e.g. to try another interpreter
rounds=3
benchtime=200x
threads=1
gocpu=
full=0

usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; }
die() { echo "bench_compare: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) [ $# -ge 2 ] || die "--rounds needs a value"; rounds=$2; shift 2 ;;
	--benchtime) [ $# -ge 2 ] || die "--benchtime needs a value"; benchtime=$2; shift 2 ;;
	--threads) [ $# -ge 2 ] || die "--threads needs a value"; threads=$2; shift 2 ;;
	--go-cpu) [ $# -ge 2 ] || die "--go-cpu needs a value"; gocpu=$2; shift 2 ;;
	--full) full=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds $rounds: want a positive integer"
[[ $threads =~ ^[1-9][0-9]*$ ]] || die "--threads $threads: want a positive integer"
[[ -z $gocpu || $gocpu =~ ^[1-9][0-9]*$ ]] || die "--go-cpu $gocpu: want a positive integer"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

command -v go >/dev/null || die "go not found in PATH"
[ -x "$PY" ] || die "$PY not found: apt-get install -y python3 python3-torch python3-torchvision libopenblas0-pthread"
if ! torch_version=$("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null) || [ -z "$torch_version" ]; then
	die "PyTorch is missing for $PY; install it with:
  apt-get install -y python3-torch python3-torchvision libopenblas0-pthread"
fi
if [ "$full" = 1 ]; then
	[ -x /usr/bin/time ] || die "--full needs GNU time: apt-get install -y time"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench_compare.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# show prints its arguments as a shell would take them back.
show() {
	local a out=()
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./=:,+-]+$ ]]; then out+=("$a"); else out+=("'$a'"); fi
	done
	echo "${out[*]}"
}

load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime; }

# positive reports whether $1 is one positive number.
positive() { [[ $1 =~ ^[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?$ ]] && awk -v x="$1" 'BEGIN { exit !(x > 0) }'; }

# median reads numbers, one a line, and prints their median.
median() { sort -g | awk '{v[NR] = $1} END {
	if (NR == 0) exit 1
	if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

go_args=(test -run '^$' -bench '^Benchmark(TrainStep|EvalStep)$' -benchtime "$benchtime" -count 1)
[ -n "$gocpu" ] && go_args+=(-cpu "$gocpu")
go_args+=(./engine)
py_args=(scripts/bench_torch.py --threads "$threads")

# run_go appends one round's samples/s to go_train and go_eval.
run_go() {
	local out=$tmp/go.$1.txt
	if ! go "${go_args[@]}" >"$out" 2>&1; then
		tail -n 30 "$out" >&2
		die "go $(show "${go_args[@]}") failed (output above)"
	fi
	local tr ev
	tr=$(awk '$1 ~ /^BenchmarkTrainStep(-[0-9]+)?$/ { for (i = 2; i <= NF; i++) if ($i == "samples/s") print $(i-1) }' "$out")
	ev=$(awk '$1 ~ /^BenchmarkEvalStep(-[0-9]+)?$/ { for (i = 2; i <= NF; i++) if ($i == "samples/s") print $(i-1) }' "$out")
	if ! positive "$tr" || ! positive "$ev"; then
		cat "$out" >&2
		die "no samples/s figure in the go test output (above)"
	fi
	printf '%.0f\n' "$tr" >>"$tmp/go_train"
	printf '%.0f\n' "$ev" >>"$tmp/go_eval"
	printf '  round %d  mnist-tui  train %8.0f  eval %8.0f samples/s\n' "$1" "$tr" "$ev"
}

# run_py appends one round's samples/s to py_train and py_eval.
run_py() {
	local out=$tmp/py.$1.txt
	if ! "$PY" "${py_args[@]}" >"$out" 2>&1; then
		tail -n 30 "$out" >&2
		die "$(show "$PY" "${py_args[@]}") failed (output above)"
	fi
	local figs
	figs=$("$PY" -c '
import json, sys
d = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("{"):
        r = json.loads(line)
        d[r["what"]] = (r["samples_per_s"], r.get("cpu_samples_per_s", 0))
print(*d["train"], *d["eval"])' "$out") || { cat "$out" >&2; die "no samples_per_s figures in bench_torch.py's output (above)"; }
	local tr trc ev evc
	read -r tr trc ev evc <<<"$figs" || true
	positive "$tr" && positive "$ev" || { cat "$out" >&2; die "bad samples_per_s figures from bench_torch.py: '$figs'"; }
	echo "$tr" >>"$tmp/py_train"
	echo "$ev" >>"$tmp/py_eval"
	echo "${trc:-0}" >>"$tmp/py_train_cpu"
	echo "${evc:-0}" >>"$tmp/py_eval_cpu"
	printf '  round %d  PyTorch    train %8.0f  eval %8.0f samples/s  (per CPU second: %s, %s)\n' "$1" "$tr" "$ev" "$trc" "$evc"
}

echo "bench_compare: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(hostname), $(nproc) CPUs, $rounds rounds"
echo "  mnist-tui: go $(show "${go_args[@]}")  ($(go env GOVERSION), GOMAXPROCS ${gocpu:-${GOMAXPROCS:-$(nproc)}}, engine workers min(GOMAXPROCS, 2))"
echo "  PyTorch:   $(show "$PY" "${py_args[@]}")  (torch $torch_version, $threads thread(s))"
echo "  load average at start: $(load)"
for ((r = 1; r <= rounds; r++)); do
	if ((r % 2)); then run_go "$r"; run_py "$r"; else run_py "$r"; run_go "$r"; fi
done
echo "  load average at end:   $(load)"
echo

for what in train eval; do
	g=$(median <"$tmp/go_$what")
	p=$(median <"$tmp/py_$what")
	awk -v w="$what" -v g="$g" -v p="$p" 'BEGIN {
		printf "%-6s mnist-tui %d samples/s, PyTorch %d samples/s, ratio %.2fx\n", w ":", g, p, (p > 0 ? g / p : 0) }'
done

echo "(PyTorch per CPU second of its process, median: train $(median <"$tmp/py_train_cpu"), eval $(median <"$tmp/py_eval_cpu") samples/s;"
echo " far above its wall figures means the machine's load took CPU from it)"

[ "$full" = 1 ] || exit 0

# --- one full default headless run of each ----------------------------------

echo
echo "full runs (default: 3 epochs, seed 0, all data):"
go build -o "$tmp/mnist-tui" . || die "go build . failed"
echo "  load average at start: $(load)"
/usr/bin/time -v -o "$tmp/go.time" "$tmp/mnist-tui" --headless --metrics "$tmp/go.jsonl" >"$tmp/go.out" 2>"$tmp/go.err" ||
	{ cat "$tmp/go.err" >&2; die "mnist-tui --headless failed (output above)"; }
/usr/bin/time -v -o "$tmp/py.time" "$PY" scripts/notebook.py --threads "$threads" --metrics "$tmp/py.jsonl" >"$tmp/py.out" 2>"$tmp/py.err" ||
	{ cat "$tmp/py.err" >&2; die "scripts/notebook.py failed (output above)"; }
echo "  load average at end:   $(load)"

"$PY" - "$tmp" <<'EOF'
import json, os, re, sys

tmp = sys.argv[1]


def time_v(path):
    t = {}
    for line in open(path):
        k, _, v = line.strip().rpartition(": ")
        t[k] = v
    wall = t.get("Elapsed (wall clock) time (h:mm:ss or m:ss)", "0:0")
    secs = 0.0
    for part in wall.split(":"):
        secs = secs * 60 + float(part)
    return secs, int(t.get("Maximum resident set size (kbytes)", 0)) / 1024, t.get("Percent of CPU this job got", "?")


def metrics(path):
    rows = {}
    for line in open(path):
        if line.strip():
            m = json.loads(line)
            rows[(m.get("epoch", 0), m["phase"])] = m
    return rows


def last(path):
    lines = [l for l in open(path).read().splitlines() if l.strip()]
    return lines[-1] if lines else "?"


gw, gr, gc = time_v(os.path.join(tmp, "go.time"))
pw, pr, pc = time_v(os.path.join(tmp, "py.time"))
print(f"  {'':22} {'mnist-tui':>12} {'PyTorch':>12}")
print(f"  {'wall time':22} {gw:11.1f}s {pw:11.1f}s   PyTorch/mnist-tui {pw / gw if gw else 0:.2f}x")
print(f"  {'peak RSS':22} {gr:8.0f} MiB {pr:8.0f} MiB   PyTorch/mnist-tui {pr / gr if gr else 0:.2f}x")
print(f"  {'CPU':22} {gc:>12} {pc:>12}")
gm, pm = metrics(os.path.join(tmp, "go.jsonl")), metrics(os.path.join(tmp, "py.jsonl"))
print(f"  {'samples/s by phase':22} {'mnist-tui':>12} {'PyTorch':>12} {'ratio':>8}    acc mnist-tui / PyTorch (ratio: mnist-tui/PyTorch)")
for key in sorted(set(gm) | set(pm), key=lambda k: (k[0] == 0, k)):
    g, p = gm.get(key), pm.get(key)
    name = f"epoch {key[0]} {key[1]}" if key[0] else key[1]
    gs = g["samples_per_s"] if g else 0
    ps = p["samples_per_s"] if p else 0
    ratio = f"{gs / ps:7.2f}x" if gs and ps else "      -"
    acc = f"{g['acc'] if g else '-'} / {p['acc'] if p else '-'}"
    print(f"  {name:22} {gs:12.0f} {ps:12.0f} {ratio}    {acc}")
print(f"  mnist-tui: {last(os.path.join(tmp, 'go.out'))}")
print(f"  PyTorch:   {last(os.path.join(tmp, 'py.out'))}")
EOF
