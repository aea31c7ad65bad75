#!/usr/bin/env bash
# bench_compare.sh: mnist-tui's engine against PyTorch on this machine, side by side.
#
# Compute only (no data pipeline): alternating over R rounds (ABBA order, so
# neither side always runs first), it runs
#   go test -run '^$' -bench '^Benchmark(TrainStep|EvalStep|CellTrainStep)$' -benchtime 200x -count 1 ./engine
#   /usr/bin/python3 scripts/bench_torch.py --cell C --threads T --blas-threads O --steps 30 --runs 5
# for PyTorch in each of its configurations here (intra-op threads T in 1, 2
# and OpenBLAS threads O in 1, 2), collects samples/s (batch 64: train =
# forward + backward + Adam, eval = forward only; the rnn's train and eval,
# the lstm's and gru's train), and prints, for every figure, the median of
# each side over the rounds, PyTorch's best configuration (the highest
# median counts) and the ratio mnist-tui/PyTorch:
#   rnn train: mnist-tui 40000 samples/s (38000 per CPU-second, 0.52 of peak), PyTorch best 12000 (T1 O2), ratio 3.33x
# The engine uses min(GOMAXPROCS, 2) workers (--go-cpu N passes -cpu N to
# go test); "of peak" is its products' GFLOP per CPU-second over one core's
# FMA peak measured here (engine/internal/peak).
#
# --full also runs full headless runs under /usr/bin/time -v: the default
# run of the built binary against scripts/notebook.py (wall time, peak RSS,
# each phase's samples/s), and `--cell lstm|gru --epochs 2 --limit 20000`
# (the training phase's samples/s against PyTorch's best training step of
# that cell).
#
# The figures are wall-clock throughput: on a machine shared with other jobs
# they move with the load, so the load average is printed at start and end,
# and the share of the vCPUs' time the host gave to other guests (steal),
# with the per-CPU-second figures of both sides.
# --targets (implies --full) then checks issue 15's "Done when" on this
# machine: it also runs BenchmarkTwoWorkers (-benchtime 800x), BenchmarkCellFLOPRatio
# (-benchtime 8x -count 6) and a CPU profile of a one-worker RNN training
# step (packing and copying: gemm's packA/packB/copyRuns/gatherRows/
# Transpose and their assembly block copiers, and runtime.memmove), and
# prints each target with its figure and "met" or "MISSED"; the exit
# status is 3 if any is missed (1 for an error, 0 when all are met).
# PYTHON=... runs another interpreter than /usr/bin/python3.
# MNIST_TUI_KERNEL=avx2 (inherited) runs the AVX2 kernels on an AVX-512 machine.
#
# Usage: scripts/bench_compare.sh [--rounds R] [--benchtime 200x] [--go-cpu N]
#                                 [--py-steps 30] [--py-runs 5] [--full] [--targets]
# Needs Go and, for PyTorch (Debian):
#   apt-get install -y python3-torch python3-torchvision libopenblas0-pthread

set -euo pipefail

PY=${PYTHON:-/usr/bin/python3} # PYTHON overrides, e.g. to try another interpreter
rounds=3
benchtime=200x
pysteps=30 # bench_torch.py --steps and --runs: 12 configurations a round
pyruns=5
gocpu=
full=0
targets=0

usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; }
die() { echo "bench_compare: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) [ $# -ge 2 ] || die "--rounds needs a value"; rounds=$2; shift 2 ;;
	--benchtime) [ $# -ge 2 ] || die "--benchtime needs a value"; benchtime=$2; shift 2 ;;
	--go-cpu) [ $# -ge 2 ] || die "--go-cpu needs a value"; gocpu=$2; shift 2 ;;
	--py-steps) [ $# -ge 2 ] || die "--py-steps needs a value"; pysteps=$2; shift 2 ;;
	--py-runs) [ $# -ge 2 ] || die "--py-runs needs a value"; pyruns=$2; shift 2 ;;
	--full) full=1; shift ;;
	--targets) full=1 targets=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds $rounds: want a positive integer"
[[ -z $gocpu || $gocpu =~ ^[1-9][0-9]*$ ]] || die "--go-cpu $gocpu: want a positive integer"
[[ $pysteps =~ ^[1-9][0-9]*$ ]] || die "--py-steps $pysteps: want a positive integer"
[[ $pyruns =~ ^[1-9][0-9]*$ ]] || die "--py-runs $pyruns: want a positive integer"

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

# cpustat prints the machine's CPU time counters (/proc/stat's cpu line:
# user nice system idle iowait irq softirq steal), or nothing.
cpustat() { awk '$1 == "cpu" { print $2, $3, $4, $5, $6, $7, $8, $9; exit }' /proc/stat 2>/dev/null || true; }

# steal prints the share of the vCPUs' time the hypervisor gave to other
# guests since cpustat printed $1 (on a shared host the figures drop by
# about that much, and move with it), or nothing when it cannot tell.
steal() {
	[ -n "$1" ] || return 0
	local now
	now=$(cpustat)
	[ -n "$now" ] || return 0
	awk -v a="$1" -v b="$now" 'BEGIN {
		n = split(a, x, " "); split(b, y, " "); t = 0
		for (i = 1; i <= n; i++) t += y[i] - x[i]
		if (n == 8 && t > 0) printf "  steal (vCPU time the host gave to other guests): %.1f%%\n", 100 * (y[8] - x[8]) / t }'
}

# positive reports whether $1 is one positive number.
positive() { [[ $1 =~ ^[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?$ ]] && awk -v x="$1" 'BEGIN { exit !(x > 0) }'; }

# median reads numbers, one a line, and prints their median.
median() { sort -g | awk '{v[NR] = $1} END {
	if (NR == 0) exit 1
	if (NR % 2) print v[(NR + 1) / 2]; else printf "%.10g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ratio prints $1 / $2 with two decimals (0 if $2 is not positive).
ratio() { awk -v g="$1" -v p="$2" 'BEGIN { printf "%.2f", (p > 0 ? g / p : 0) }'; }

go_args=(test -run '^$' -bench '^Benchmark(TrainStep|EvalStep|CellTrainStep)$' -benchtime "$benchtime" -count 1)
[ -n "$gocpu" ] && go_args+=(-cpu "$gocpu")
go_args+=(./engine)
configs=("1 1" "1 2" "2 1" "2 2") # PyTorch: intra-op threads, OpenBLAS threads

# metric prints the value before unit $2 on the line of benchmark $1.
metric() { awk -v b="$1" -v u="$2" '$1 ~ "^Benchmark" b "(-[0-9]+)?$" { for (i = 2; i <= NF; i++) if ($i == u) print $(i-1) }' "$3"; }

# run_go appends one round's figures to go_<what> (what: rnn_train,
# rnn_eval, lstm_train, gru_train), with per-CPU-second and peak fractions.
run_go() {
	local out=$tmp/go.$1.txt
	if ! go "${go_args[@]}" >"$out" 2>&1; then
		tail -n 30 "$out" >&2
		die "go $(show "${go_args[@]}") failed (output above)"
	fi
	local what bench v line="  round $1  mnist-tui"
	for what in rnn_train rnn_eval lstm_train gru_train; do
		case $what in
		rnn_train) bench=TrainStep ;; rnn_eval) bench=EvalStep ;;
		lstm_train) bench=CellTrainStep/lstm ;; gru_train) bench=CellTrainStep/gru ;;
		esac
		v=$(metric "$bench" samples/s "$out")
		positive "$v" || { cat "$out" >&2; die "no samples/s figure for $bench in the go test output (above)"; }
		printf '%.0f\n' "$v" >>"$tmp/go_$what"
		printf '%.0f\n' "$(metric "$bench" cpu-samples/s "$out")" >>"$tmp/go_${what}_cpu"
		echo "$(metric "$bench" peak-frac "$out")" >>"$tmp/go_${what}_peak"
		line+=$(printf '  %s %7.0f' "$what" "$v")
	done
	echo "$line"
}

# run_py appends one round's figures of cell $2 in configuration $3 $4
# (threads, OpenBLAS threads) to py_<cell>_<train|eval>_<T><O>.
run_py() {
	local r=$1 cell=$2 th=$3 ob=$4 out=$tmp/py.$1.$2.$3$4.txt
	if ! "$PY" scripts/bench_torch.py --cell "$cell" --threads "$th" --blas-threads "$ob" --steps "$pysteps" --runs "$pyruns" >"$out" 2>&1; then
		tail -n 30 "$out" >&2
		die "$PY scripts/bench_torch.py --cell $cell --threads $th --blas-threads $ob failed (output above)"
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
	echo "$tr" >>"$tmp/py_${cell}_train_$th$ob"
	echo "$ev" >>"$tmp/py_${cell}_eval_$th$ob"
	echo "$trc" >>"$tmp/py_${cell}_train_$th${ob}_cpu"
	echo "$evc" >>"$tmp/py_${cell}_eval_$th${ob}_cpu"
	printf '  round %d  PyTorch %-4s T%d O%d  train %7.0f  eval %7.0f samples/s  (per CPU-second %s, %s)\n' "$r" "$cell" "$th" "$ob" "$tr" "$ev" "$trc" "$evc"
}

run_all_py() {
	local cell c
	for cell in rnn lstm gru; do
		for c in "${configs[@]}"; do
			# shellcheck disable=SC2086
			run_py "$1" "$cell" $c
		done
	done
}

echo "bench_compare: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(hostname), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), $rounds rounds"
echo "  kernels: MNIST_TUI_KERNEL=${MNIST_TUI_KERNEL:-auto} (inherited by go test and the binary)"
echo "  mnist-tui: go $(show "${go_args[@]}")  ($(go env GOVERSION), GOMAXPROCS ${gocpu:-${GOMAXPROCS:-$(nproc)}}, engine workers min(GOMAXPROCS, 2))"
echo "  PyTorch:   $PY scripts/bench_torch.py --cell rnn|lstm|gru --threads 1|2 --blas-threads 1|2  (torch $torch_version)"
echo "  load average at start: $(load)"
stat0=$(cpustat)
for ((r = 1; r <= rounds; r++)); do
	if ((r % 2)); then run_go "$r"; run_all_py "$r"; else run_all_py "$r"; run_go "$r"; fi
done
echo "  load average at end:   $(load)"
steal "$stat0"
echo

# best_py prints PyTorch's best median for $1 (cell_phase) and its config.
best_py() {
	local c th ob m best=0 cfg=
	for c in "${configs[@]}"; do
		read -r th ob <<<"$c"
		m=$(median <"$tmp/py_$1_$th$ob")
		if awk -v m="$m" -v b="$best" 'BEGIN { exit !(m > b) }'; then best=$m cfg="T$th O$ob"; fi
	done
	echo "$best $cfg"
}

declare -A best_train
for what in rnn_train rnn_eval lstm_train gru_train; do
	g=$(median <"$tmp/go_$what")
	gc=$(median <"$tmp/go_${what}_cpu")
	gp=$(sort -g "$tmp/go_${what}_peak" | awk '{v[NR] = $1} END { print (NR ? v[int((NR + 1) / 2)] : 0) }')
	read -r p cfg <<<"$(best_py "$what")"
	best_train[$what]=$p
	awk -v w="${what/_/ }" -v g="$g" -v gc="$gc" -v gp="$gp" -v p="$p" -v cfg="$cfg" 'BEGIN {
		printf "%-11s mnist-tui %d samples/s (%d per CPU-second, %.2f of peak), PyTorch best %d (%s), ratio %.2fx\n", w ":", g, gc, gp, p, cfg, (p > 0 ? g / p : 0) }'
done

[ "$full" = 1 ] || exit 0

# --- one full default headless run of each ----------------------------------

echo
echo "full runs (default: 3 epochs, seed 0, all data):"
go build -o "$tmp/mnist-tui" . || die "go build . failed"
echo "  load average at start: $(load)"
stat0=$(cpustat)
/usr/bin/time -v -o "$tmp/go.time" "$tmp/mnist-tui" --headless --metrics "$tmp/go.jsonl" >"$tmp/go.out" 2>"$tmp/go.err" ||
	{ cat "$tmp/go.err" >&2; die "mnist-tui --headless failed (output above)"; }
/usr/bin/time -v -o "$tmp/py.time" "$PY" scripts/notebook.py --threads 1 --metrics "$tmp/py.jsonl" >"$tmp/py.out" 2>"$tmp/py.err" ||
	{ cat "$tmp/py.err" >&2; die "scripts/notebook.py failed (output above)"; }
echo "  load average at end:   $(load)"
steal "$stat0"

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
trains = [m["samples_per_s"] for (_, ph), m in gm.items() if ph == "train"]
vals = [m["samples_per_s"] for (_, ph), m in gm.items() if ph == "val"]
with open(os.path.join(tmp, "phases"), "w") as f:  # for --targets: the slowest phases, the wall time
    print(min(trains, default=0), min(vals, default=0), gw, file=f)
print(f"  mnist-tui: {last(os.path.join(tmp, 'go.out'))}")
print(f"  PyTorch:   {last(os.path.join(tmp, 'py.out'))}")
EOF

echo
echo "gated cells, full runs (--epochs 2 --limit 20000, training phase samples/s from --metrics):"
stat0=$(cpustat)
for cell in lstm gru; do
	/usr/bin/time -v -o "$tmp/$cell.time" "$tmp/mnist-tui" --headless --cell "$cell" --epochs 2 --limit 20000 --metrics "$tmp/$cell.jsonl" >"$tmp/$cell.out" 2>"$tmp/$cell.err" ||
		{ cat "$tmp/$cell.err" >&2; die "mnist-tui --cell $cell failed (output above)"; }
	g=$("$PY" -c 'import json, sys
print(next(json.loads(l)["samples_per_s"] for l in open(sys.argv[1]) if l.strip() and json.loads(l)["phase"] == "train"))' "$tmp/$cell.jsonl")
	echo "$g" >"$tmp/phase_$cell"
	awk -v c="$cell" -v g="$g" -v p="${best_train[${cell}_train]}" 'BEGIN {
		printf "  %-4s training phase %d samples/s, PyTorch best training step %d, ratio %.2fx\n", c, g, p, (p > 0 ? g / p : 0) }'
done
echo "  load average at end:   $(load)"
steal "$stat0"

[ "$targets" = 1 ] || exit 0

# --- issue 15's targets -------------------------------------------------------

echo
echo "issue 15's targets (kernels: ${MNIST_TUI_KERNEL:-auto}):"
stat0=$(cpustat)
two=(test -run '^$' -bench 'TwoWorkers$' -benchtime 800x -count 1 ./engine)
flop=(test -run '^$' -bench 'CellFLOPRatio$' -benchtime 8x -count 6 ./engine)
prof=(test -run '^$' -bench 'CellTrainStep/rnn$' -benchtime 3000x -count 1 -cpu 1 -cpuprofile "$tmp/cpu.prof" -o "$tmp/engine.test" ./engine)
for args in two flop prof; do
	declare -n a=$args
	go "${a[@]}" >"$tmp/$args.txt" 2>&1 || { tail -n 30 "$tmp/$args.txt" >&2; die "go $(show "${a[@]}") failed (output above)"; }
	echo "  go $(show "${a[@]}")"
	unset -n a
done
go tool pprof -top -nodecount 1000 "$tmp/cpu.prof" >"$tmp/prof.top" 2>&1 || { cat "$tmp/prof.top" >&2; die "go tool pprof -top failed (output above)"; }
echo "  load average at end:   $(load)"
steal "$stat0"

missed=0
# verdict prints target $1: figure $2 (text $3) against the least $4 allowed
# (the most, with $5 = max).
verdict() {
	if awk -v f="$2" -v t="$4" -v m="${5:-min}" 'BEGIN { exit !(m == "max" ? f <= t : f >= t) }'; then
		printf '  %-62s %s: met\n' "$1" "$3"
	else
		printf '  %-62s %s: MISSED\n' "$1" "$3"
		missed=$((missed + 1))
	fi
}
read -r tmin vmin wall <"$tmp/phases"
rt=$(ratio "$tmin" "${best_train[rnn_train]}")
rv=$(ratio "$vmin" "${best_train[rnn_eval]}")
verdict "training phases >= 3.0x PyTorch's best training step" "$rt" "slowest ${rt}x" 3.0
verdict "validation phases >= 2.5x PyTorch's best evaluation step" "$rv" "slowest ${rv}x" 2.5
for cell in lstm gru; do
	r=$(ratio "$(cat "$tmp/phase_$cell")" "${best_train[${cell}_train]}")
	verdict "the ${cell^^}'s training phase >= 2.5x PyTorch's best step" "$r" "${r}x" 2.5
done
w=$(awk -v w="$wall" 'BEGIN { printf "%.2f", w }')
verdict "the whole default run within 3.0 s" "$wall" "${w} s" 3.0 max
# Every TwoWorkers figure, training and evaluation, medians and means.
tw=$(awk '$1 ~ /^BenchmarkTwoWorkers\// { for (i = 2; i <= NF; i++) if ($i == "speedup" || $i == "mean-speedup") print $(i-1) }' "$tmp/two.txt" | sort -g)
[ -n "$tw" ] || { cat "$tmp/two.txt" >&2; die "no speedup figures in BenchmarkTwoWorkers' output (above)"; }
verdict "two workers >= 1.8x one (every cell and pass, median and mean)" "$(head -n 1 <<<"$tw")" "$(head -n 1 <<<"$tw")-$(tail -n 1 <<<"$tw")" 1.8
for cell in lstm gru; do
	r=$(metric CellFLOPRatio "$cell/rnn" "$tmp/flop.txt" | median) || { cat "$tmp/flop.txt" >&2; die "no $cell/rnn figure in BenchmarkCellFLOPRatio's output (above)"; }
	verdict "the ${cell^^}'s GFLOP per CPU-second >= the RNN's (median of 6)" "$r" "$(awk -v r="$r" 'BEGIN { printf "%.3f", r }')" 1.0
done
pack=$(awk '$NF ~ /gemm\.(packA|packB|copyRuns|gatherRows|Transpose|transpose8x8|copyBlocks)|^runtime\.memmove$/ { sub("%", "", $2); s += $2 } END { printf "%.1f", s }' "$tmp/prof.top")
verdict "packing and copying <= 8% of a one-worker training step" "$pack" "${pack}%" 8 max
[ "$missed" = 0 ] || { echo "  $missed target(s) missed"; exit 3; }
echo "  all met"
