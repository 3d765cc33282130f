#!/usr/bin/env bash
# Regenerates docs/deployer-policy.json: the IAM policy the identity that runs `pulumi up` needs.
# It runs the lifecycle of tests/e2e/deployer-policy (preview, create, an in-place update, refresh,
# import by name, destroy) through the real CLI against the local emulator, maps every AWS request
# of the emulator's log to its IAM action, and scopes each action by resource ARN patterns and tag
# conditions (SCOPES in provider/server/tests/deployer_policy.rs). Without UPDATE_EXPECT the same
# test fails when the committed policy is stale. About 30 s on 2 cores once the test is built.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
UPDATE_EXPECT=1 cargo test --workspace --test deployer_policy -- --nocapture
echo "wrote docs/deployer-policy.json" >&2
