#!/usr/bin/env bash
# Run every test class: unit + proptests, gRPC conformance, emulator, and Pulumi CLI e2e, plus the
# freshness and lint checks. This is the command `.ci/run` calls.
#
# Installs what it needs first (pinned, cached outside the clone): the Pulumi CLI
# (scripts/install-pulumi.sh) and the emulator venv (scripts/install-emulator.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

step "installing the pinned Pulumi CLI and the emulator (cached)"
SECURE_EKS_PULUMI_BIN="$(scripts/install-pulumi.sh | tail -n1)"
SECURE_EKS_EMULATOR_PYTHON="$(scripts/install-emulator.sh | tail -n1)"
export SECURE_EKS_PULUMI_BIN SECURE_EKS_EMULATOR_PYTHON

step "generated files are fresh (schema.json, docs/rules.md, docs/reference.md) and carry one version"
cargo run -q -p xtask -- schema --check
cargo run -q -p xtask -- rules-doc --check
cargo run -q -p xtask -- reference-doc --check
cargo run -q -p xtask -- version --check

step "clippy (no unwrap/expect/panic on request paths)"
cargo clippy -q --workspace --all-targets -- -D warnings

step "benchmarks, light mode (bench/run.sh --light; prints figures, asserts nothing)"
bench/run.sh --light

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

step "generated SDKs are fresh and build (nodejs tsc, python wheel, go build/vet)"
scripts/check-sdk.sh 2>&1 | tee -a "$log"

step "emulator smoke test"
"$SECURE_EKS_EMULATOR_PYTHON" -m pytest -q -p no:cacheprovider tests/emulator/smoke_test.py tests/emulator/fidelity_test.py 2>&1 | tee -a "$log"

step "fuzz: 1,000,000 hostile inputs through the pure Check path (release build of the core only)"
SECURE_EKS_FUZZ_CASES="${SECURE_EKS_FUZZ_CASES_CI:-1000000}" \
    cargo test -q --release -p secure-eks-core --test fuzz -- --nocapture check_never_panics 2>&1 | tee -a "$log"

step "cargo test: unit, proptest, conformance, emulator (incl. the fault matrix), CLI e2e"
set +e
cargo test --workspace --no-fail-fast 2>&1 | tee -a "$log"
rc=${PIPESTATUS[0]}
set -e

# One closing line for all runners: cargo's per-binary "test result" lines and pytest's summary.
passed=$(grep -hoE '(ok|FAILED)\. [0-9]+ passed; [0-9]+ failed' "$log" | awk '{p+=$2; f+=$4} END {print p+0}')
failed=$(grep -hoE '(ok|FAILED)\. [0-9]+ passed; [0-9]+ failed' "$log" | awk '{p+=$2; f+=$4} END {print f+0}')
py_passed=$(grep -hoE '^[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
sdk_passed=$(grep -hoE '^sdk: [0-9]+ passed' "$log" | awk '{s+=$2} END {print s+0}')
echo "tests: $((passed + py_passed + sdk_passed)) passed, $((failed)) failed"
exit "$rc"
