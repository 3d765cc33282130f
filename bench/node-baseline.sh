#!/usr/bin/env bash
# The Node.js baseline for plugin start: how long `node` takes to load @pulumi/aws and
# @pulumi/pulumi and exit, and its max RSS — what a Node component plugin pays before it can print
# its port. The packages come from npm at pinned versions, installed once into
# ~/.cache/secure-eks/bench/node-<versions> (outside the clone).
#
#   bench/node-baseline.sh install        install if missing (idempotent)
#   bench/node-baseline.sh cached         exit 0 if installed, 1 otherwise
#   bench/node-baseline.sh run <N>        N runs; prints one line per run: "<ms> <max RSS KiB>"
set -euo pipefail

# Pinned: @pulumi/pulumi at the version of the pinned CLI; @pulumi/aws the newest at the time.
PULUMI_NPM_VERSION="3.259.0"
AWS_NPM_VERSION="7.48.0"
dir="${SECURE_EKS_BENCH_CACHE:-$HOME/.cache/secure-eks/bench}/node-pulumi-$PULUMI_NPM_VERSION-aws-$AWS_NPM_VERSION"
script='require("@pulumi/aws"); require("@pulumi/pulumi")'

cmd_install() {
    [[ -f "$dir/.complete" ]] && return 0
    command -v npm >/dev/null || { echo "npm not found" >&2; return 1; }
    mkdir -p "$dir"
    (
        cd "$dir"
        [[ -f package.json ]] || printf '{"name":"seks-node-baseline","private":true}\n' >package.json
        echo "[node-baseline] npm install @pulumi/pulumi@$PULUMI_NPM_VERSION @pulumi/aws@$AWS_NPM_VERSION into $dir" >&2
        npm install --no-audit --no-fund --save-exact --loglevel=error \
            "@pulumi/pulumi@$PULUMI_NPM_VERSION" "@pulumi/aws@$AWS_NPM_VERSION" >&2
    )
    touch "$dir/.complete"
}

cmd_run() {
    local n="${1:-30}"
    cd "$dir"
    # One warm-up run (page cache), not counted.
    node -e "$script"
    for _ in $(seq "$n"); do
        # GNU time: %e wall seconds (only 10 ms resolution), %M max RSS in KiB; the wall time is
        # taken from the shell clock instead (ns).
        local t0 t1 rss
        t0=$(date +%s%N)
        rss=$( { /usr/bin/time -f '%M' node -e "$script" >/dev/null; } 2>&1 | tail -n1)
        t1=$(date +%s%N)
        echo "$(( (t1 - t0) / 1000 )) $rss" | awk '{printf "%.2f %d\n", $1 / 1000, $2}'
    done
}

case "${1:-}" in
    install) cmd_install ;;
    cached) [[ -f "$dir/.complete" ]] ;;
    run) shift; cmd_run "$@" ;;
    *) echo "usage: $0 install|cached|run <N>" >&2; exit 2 ;;
esac
