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
# The provider polls AWS every 5 s; against the time-scaled emulator (provider/testkit:
# SUITE_TIME_SCALE) a poll every 100 ms keeps waits proportional to the simulated time.
export SECURE_EKS_POLL_INTERVAL_MS="${SECURE_EKS_POLL_INTERVAL_MS:-100}"

step "generated files are fresh (schema.json, docs/rules.md, docs/reference.md) and carry one version"
cargo run -q -p xtask -- schema --check
cargo run -q -p xtask -- rules-doc --check
cargo run -q -p xtask -- reference-doc --check
cargo run -q -p xtask -- version --check
# The embedded AWS action catalogue and the SARIF schema match their pinned published packages.
scripts/gen-iam-actions.sh --check
scripts/gen-sarif-schema.sh --check

step "clippy (no unwrap/expect/panic on request paths)"
cargo clippy -q --workspace --all-targets -- -D warnings

step "benchmarks, light mode (bench/run.sh --light; prints figures, asserts nothing)"
bench/run.sh --light

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

step "generated SDKs are fresh and build (nodejs tsc, python wheel, go build/vet)"
# A failing SDK check must not end the run before the closing line: its failures are counted there.
set +e
scripts/check-sdk.sh 2>&1 | tee -a "$log"
sdk_rc=${PIPESTATUS[0]}
set -e

step "emulator smoke test"
set +e
"$SECURE_EKS_EMULATOR_PYTHON" -m pytest -q -rs -p no:cacheprovider tests/emulator/smoke_test.py tests/emulator/fidelity_test.py tests/emulator/daytwo_test.py 2>&1 | tee -a "$log"
py_rc=${PIPESTATUS[0]}
set -e

step "fuzz: 1,000,000 hostile inputs through the pure Check path (release build of the core only)"
set +e
SECURE_EKS_FUZZ_CASES="${SECURE_EKS_FUZZ_CASES_CI:-1000000}" \
    cargo test -q --release -p secure-eks-core --test fuzz -- --nocapture check_never_panics 2>&1 | tee -a "$log"
fuzz_rc=${PIPESTATUS[0]}
set -e

step "cargo test: unit, proptest, conformance, emulator (incl. the fault matrix), CLI e2e"
set +e
cargo test --workspace --no-fail-fast 2>&1 | tee -a "$log"
rc=${PIPESTATUS[0]}
set -e

# One closing line for all runners, from cargo's per-binary "test result" lines, pytest's summary
# and check-sdk's `sdk:` line. Skipped work is counted and named, never hidden: ignored cargo
# tests, pytest skips and skipped SDK checks (e.g. no .NET SDK). A test binary that did not build
# ("could not compile") or died without its "test result" line (a signal, an abort) is a failure;
# so is any runner that exited non-zero without a counted failure.
summary_rc=0
scripts/test-summary.sh "$log" "$rc" "$sdk_rc" "$py_rc" "$fuzz_rc" || summary_rc=$?
if ((rc == 0 && summary_rc != 0)); then rc=$summary_rc; fi
exit "$rc"
