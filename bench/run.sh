#!/usr/bin/env bash
# The benchmarks of issue #7, in one command. Prints a table of figures and ratios against the
# goals; never fails on a figure (no timed assertions), only when a benchmark cannot run.
#
#   bench/run.sh            full: every item, 30 plugin starts, 2000 Check/Diff iterations, the
#                           Node.js baseline (installed from npm if missing), clean build timings;
#                           writes docs/performance.md
#   bench/run.sh --light    CI: few iterations, no build timings, the Node.js baseline only if it
#                           is already cached; writes nothing outside the target dir
#
# Full mode: release (the bench profile); light mode: the debug build. Raw output and the metrics go to
# ${CARGO_TARGET_DIR:-target}/bench/. Caches live outside the clone: the npm packages of the
# Node.js baseline in ~/.cache/secure-eks/bench, the clean-build target dir in
# ~/.cache/secure-eks/bench-target (so other builds are not clobbered).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"

light=0
case "${1:-}" in
    --light) light=1 ;;
    "") ;;
    *) echo "usage: bench/run.sh [--light]" >&2; exit 2 ;;
esac

step() { printf '\n==> %s\n' "$*" >&2; }

target="${CARGO_TARGET_DIR:-target}"
out="$target/bench"
mkdir -p "$out"
metrics="$out/metrics.txt"
raw="$out/raw.md"
: >"$metrics"
: >"$raw"
export SECURE_EKS_BENCH_METRICS="$root/$metrics"
[[ "$target" = /* ]] && export SECURE_EKS_BENCH_METRICS="$metrics"
export SECURE_EKS_BENCH_CALLS="${SECURE_EKS_BENCH_METRICS%/*}/calls.json"

if ((light)); then
    start_runs=5 check_iters=200 scale_iters=20 cli_runs=1 node_runs=5
else
    start_runs=30 check_iters=2000 scale_iters=300 cli_runs=5 node_runs=30
fi

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
started=$SECONDS

step "installing the pinned Pulumi CLI and the emulator (cached)"
SECURE_EKS_PULUMI_BIN="${SECURE_EKS_PULUMI_BIN:-$(scripts/install-pulumi.sh | tail -n1)}"
SECURE_EKS_EMULATOR_PYTHON="${SECURE_EKS_EMULATOR_PYTHON:-$(scripts/install-emulator.sh | tail -n1)}"
export SECURE_EKS_PULUMI_BIN SECURE_EKS_EMULATOR_PYTHON

# Full mode measures the release build (the bench profile). Light mode (CI) reuses the debug
# build the tests make anyway: a release build from nothing takes ~12 minutes on 2 cores, and
# light mode only shows that every bench runs; its figures are not comparable.
if ((light)); then
    profile_args=(--profile dev) profile_dir=debug
else
    profile_args=() profile_dir=release
fi
step "building the benches ($profile_dir)"
# Built once; the executables are then run directly, so that every item measures the same build
# even when the sources change during the run (cargo bench would rebuild in between).
cargo bench -q -p secure-eks-server "${profile_args[@]}" --no-run
exes="$(cargo bench -q -p secure-eks-server "${profile_args[@]}" --no-run --message-format=json | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and "bench" in m["target"]["kind"]:
        print(m["target"]["name"], m["executable"])
')"
plugin="$target/$profile_dir/pulumi-resource-secure-eks"
[[ -x "$plugin" ]] || { echo "no $profile_dir binary at $plugin" >&2; exit 1; }

run_bench() { # name args...
    local name="$1"; shift
    local exe
    exe="$(awk -v n="$name" '$1 == n {print $2}' <<<"$exes")"
    [[ -x "$exe" ]] || { echo "no bench executable for $name" >&2; exit 1; }
    step "bench $name $*"
    {
        printf '\n### `cargo bench -p secure-eks-server --bench %s -- %s`\n\n' "$name" "$*"
        (cd provider/server && "$exe" "$@")
    } | tee -a "$raw"
}

run_bench plugin_start "$start_runs"

# The Node.js baseline.
node_note=""
if ((light)) && ! bench/node-baseline.sh cached; then
    node_note="skipped (not cached; \`bench/node-baseline.sh install\` or a full run installs it)"
elif ! command -v node >/dev/null || ! bench/node-baseline.sh install; then
    node_note="skipped (no node/npm, or the npm install failed)"
else
    step "Node.js baseline: node -e \"require('@pulumi/aws'); require('@pulumi/pulumi')\" x $node_runs"
    bench/node-baseline.sh run "$node_runs" >"$out/node.txt"
    sort -n -k1,1 "$out/node.txt" | awk '{print $1}' >"$out/node.ms"
    sort -n -k2,2 "$out/node.txt" | awk '{print $2 / 1024}' >"$out/node.mib"
    pick() { awk -v p="$2" '{v[NR]=$1} END {i=int((NR-1)*p+0.5)+1; print v[i]}' "$1"; }
    {
        echo "start.node.ms.p50 $(pick "$out/node.ms" 0.5)"
        echo "start.node.ms.p90 $(pick "$out/node.ms" 0.9)"
        echo "start.node.rss_mib.p50 $(pick "$out/node.mib" 0.5)"
        echo "start.node.rss_mib.p90 $(pick "$out/node.mib" 0.9)"
    } >>"$metrics"
    node_note="node $(node --version), @pulumi/pulumi and @pulumi/aws as pinned in bench/node-baseline.sh"
fi

run_bench check "$check_iters"
run_bench scaling "$scale_iters"
run_bench create_path "$cli_runs"
if [[ -f "$SECURE_EKS_BENCH_CALLS" ]]; then
    step "plan-stats with the measured calls"
    {
        printf '\n### `cargo run -p xtask -- plan-stats --calls %s`\n\n```\n' "${SECURE_EKS_BENCH_CALLS#"$root/"}"
        cargo run -q -p xtask -- plan-stats --calls "$SECURE_EKS_BENCH_CALLS"
        printf '```\n'
    } | tee -a "$raw"
fi

echo "binary.$profile_dir.mib $(stat -c %s "$plugin" | awk '{printf "%.2f", $1 / 1048576}')" >>"$metrics"

# The summary table (and the console copy) from the metrics so far.
report() {
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
elapsed=$((SECONDS - started))

# ---------------------------------------------------------------- summary
m() { awk -v k="$1" '$1 == k {v = $2} END {if (v == "") print "nan"; else print v}' "$metrics"; }
f() { printf "%.${2:-1}f" "$1" 2>/dev/null || echo "$1"; }
div() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "nan" || b == "nan" || b == 0) print "nan"; else printf "%.2f", a / b}'; }
goal() { # value op limit -> met/MISSED
    awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {if (v == "nan") {print "n/a"; exit} ok = (op == "<=") ? (v <= l) : (v >= l); print ok ? "met" : "**missed**"}'
}
mb() { awk -v v="$1" 'BEGIN {if (v == "nan") print "nan"; else printf "%.1f", v * 1.048576}'; }

summary="$out/summary.md"
{
    echo "| item | figure | ours | baseline / ratio | goal | |"
    echo "|---|---|---|---|---|---|"
    s50=$(m start.ms.p50); s90=$(m start.ms.p90); r50=$(m start.rss_mib.p50); r90=$(m start.rss_mib.p90)
    n50=$(m start.node.ms.p50); n90=$(m start.node.ms.p90); nr50=$(m start.node.rss_mib.p50); nr90=$(m start.node.rss_mib.p90)
    echo "| 1 plugin start | spawn → port line, median / p90 (ms) | $(f "$s50" 2) / $(f "$s90" 2) | node $(f "$n50") / $(f "$n90"); node ÷ ours $(div "$n50" "$s50")× | ≤ 15 ms | $(goal "$s50" "<=" 15) |"
    echo "| 1 plugin start | RSS after GetSchema, median / p90 (MB) | $(mb "$r50") / $(mb "$r90") | node max RSS $(mb "$nr50") / $(mb "$nr90"); node ÷ ours $(div "$nr50" "$r50")× | ≤ 25 MB | $(goal "$(mb "$r50")" "<=" 25) |"
    for n in 1 5 20; do
        g=""; [[ $n == 5 ]] && g="≤ 1 ms p99"
        cp=$(m check.pure.$n.p99); cg=$(m check.grpc.$n.p99); dp=$(m diff.pure.$n.p99); dg=$(m diff.grpc.$n.p99)
        echo "| 2 Check | $n node groups: p50 / p99 (µs), pure · gRPC | $(f "$(m check.pure.$n.p50)") / $(f "$cp") · $(f "$(m check.grpc.$n.p50)") / $(f "$cg") | | $g | $([[ $n == 5 ]] && goal "$cg" "<=" 1000) |"
        echo "| 2 Diff | $n node groups: p50 / p99 (µs), pure · gRPC | $(f "$(m diff.pure.$n.p50)") / $(f "$dp") · $(f "$(m diff.grpc.$n.p50)") / $(f "$dg") | | $g | $([[ $n == 5 ]] && goal "$dg" "<=" 1000) |"
    done
    echo "| 2 gRPC | empty RPC round trip p50 / p99 (µs) | $(f "$(m grpc.noop.0.p50)") / $(f "$(m grpc.noop.0.p99)") | | | |"
    pr=$(m preview.ratio)
    echo "| 3 preview | yaml-minimal ÷ empty program, medians (s) | $(f "$(m preview.minimal.s)" 3) | empty $(f "$(m preview.empty.s)" 3); ratio $(f "$pr" 2) | ≤ 1.2 | $(goal "$pr" "<=" 1.2) |"
    cc=$(m create.chain_calls)
    echo "| 4 create | plan steps / critical path (steps) / max width | $(m create.steps) / $(m create.chain_steps) / $(m create.width) | | | |"
    echo "| 4 create | critical path in sequential AWS calls; ideal = × 50 ms (s) | $cc | ideal $(awk -v c="$cc" 'BEGIN {printf "%.2f", c * 0.05}') | | |"
    echo "| 4 create | executor apply in-process (s); ÷ ideal | $(f "$(m create.apply.s)" 2) | $(f "$(m create.apply.ratio)" 2) | ≤ 1.1 | $(goal "$(m create.apply.ratio)" "<=" 1.1) |"
    echo "| 4 create | \`pulumi up\` (s); ÷ ideal | $(f "$(m create.up.s)" 2) | $(f "$(m create.up.ratio)" 2) | ≤ 1.1 | $(goal "$(m create.up.ratio)" "<=" 1.1) |"
    echo "| 4 create | (\`up\` − \`up\` of the empty program) ÷ ideal | $(f "$(m create.up_minus_empty.ratio)" 2) | empty \`up\` $(f "$(m create.up_empty.s)" 2) s | | |"
    echo "| 4 create | AWS calls: apply / \`pulumi up\` (before the first create call); peak in flight apply / up | $(m create.calls) / $(m create.up.calls) ($(m create.up.calls_before_create)); $(m create.apply.peak) / $(m create.up.peak) | mean call $(f "$(m create.call_ms)") ms | | |"
    for n in 1 10 100; do
        echo "| 5 scaling | $n node groups: plan / Check p50 (µs); per group | $(f "$(m scale.plan.$n.p50)") / $(f "$(m scale.check.$n.p50)") | $(f "$(div "$(m scale.plan.$n.p50)" $n)") / $(f "$(div "$(m scale.check.$n.p50)" $n)") per group | | |"
    done
    pl=$(div "$(m scale.plan.marginal.10-100)" "$(m scale.plan.marginal.1-10)")
    cl=$(div "$(m scale.check.marginal.10-100)" "$(m scale.check.marginal.1-10)")
    echo "| 5 scaling | µs per added group, 1→10 vs 10→100: plan · Check | $(f "$(m scale.plan.marginal.1-10)") → $(f "$(m scale.plan.marginal.10-100)") · $(f "$(m scale.check.marginal.1-10)") → $(f "$(m scale.check.marginal.10-100)") | ratio $pl · $cl (1 = linear) | linear | |"
    if ((! light)); then
        echo "| 6 build | clean debug / release build of the workspace (s) | $(m build.debug.s) / $(m build.release.s) | | | |" | sed 's/nan/pending/g'
    fi
    echo "| 6 build | $profile_dir binary size (MiB) | $(m binary.$profile_dir.mib) | | | |"
} >"$summary"

printf '\n## Summary (%s mode, %ss, load %s → %s)\n\n' "$( ((light)) && echo light || echo full)" "$elapsed" "$load_before" "$load_after"
cat "$summary"
printf '\nNode.js baseline: %s\n' "$node_note"

}

# ---------------------------------------------------------------- docs/performance.md
write_doc() {
cpu="$(lscpu 2>/dev/null | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}')"
ram="$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty="$(git status --porcelain 2>/dev/null | grep -q . && echo " plus uncommitted changes" || true)"
{
    echo "# Performance"
    echo
    echo "Generated by \`bench/run.sh\` (full mode); do not edit by hand: the analysis below comes from"
    echo "\`bench/notes.md\`. Figures only — nothing here is asserted by a test."
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- Machine: $(nproc) cores, $cpu, $ram RAM, $(uname -sr)"
    echo "- Load average (1/5/15 min) before → after: $load_before → $load_after; other builds and tests were running on the machine"
    echo "- Toolchain: $(rustc --version), $(node --version 2>/dev/null | sed 's/^/node /'), Pulumi CLI $("$SECURE_EKS_PULUMI_BIN/pulumi" version 2>/dev/null)"
    echo "- Source: commit $commit$dirty; release profile (thin LTO, 4 codegen units, stripped)"
    echo "- Node.js baseline: $node_note"
    echo "- Duration of the run: ${elapsed}s"
    echo
    echo "## Commands"
    echo
    echo '```sh'
    echo "bench/run.sh            # this file; bench/run.sh --light runs in CI (scripts/test.sh)"
    echo "cargo bench -p secure-eks-server --bench plugin_start -- $start_runs"
    echo "bench/node-baseline.sh run $node_runs"
    echo "cargo bench -p secure-eks-server --bench check -- $check_iters"
    echo "cargo bench -p secure-eks-server --bench scaling -- $scale_iters"
    echo "cargo bench -p secure-eks-server --bench create_path -- $cli_runs"
    echo "cargo run -p xtask -- plan-stats --calls target/bench/calls.json"
    echo "CARGO_TARGET_DIR=~/.cache/secure-eks/bench-target cargo build --workspace [--release]   # from empty"
    echo '```'
    echo
    echo "## Summary"
    echo
    cat "$summary"
    echo
    [[ -f bench/notes.md ]] && cat bench/notes.md && echo
    echo "## Raw output"
    cat "$raw"
} >docs/performance.md
step "wrote docs/performance.md"
}

report
if ((light)); then
    exit 0
fi
# The figures so far go into docs/performance.md at once; the clean builds take long, and the
# file is written again with their times.
write_doc
# Clean build timings (full mode only), in a target dir of their own.
bt="${SECURE_EKS_BENCH_TARGET:-$HOME/.cache/secure-eks/bench-target}"
step "clean debug build of the workspace (CARGO_TARGET_DIR=$bt)"
rm -rf "$bt"
t0=$(date +%s%N)
CARGO_TARGET_DIR="$bt" cargo build -q --workspace
t1=$(date +%s%N)
echo "build.debug.s $(( (t1 - t0) / 1000000 ))e-3" | awk '{printf "%s %.1f\n", $1, $2}' >>"$metrics"
step "clean release build of the workspace"
t0=$(date +%s%N)
CARGO_TARGET_DIR="$bt" cargo build -q --workspace --release
t1=$(date +%s%N)
echo "build.release.s $(( (t1 - t0) / 1000000 ))e-3" | awk '{printf "%s %.1f\n", $1, $2}' >>"$metrics"
report
write_doc
