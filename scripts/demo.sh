#!/usr/bin/env bash
# The main job on a fresh machine: install everything (pinned), build the provider, start the
# local AWS emulator, and run `pulumi preview`, `pulumi up` and `pulumi destroy` of
# examples/yaml-minimal against it through the real Pulumi CLI with a local file backend.
# EXAMPLE=<dir under examples/> picks another example (typescript, python or go);
# KEEP=1 skips the destroy. SECURE_EKS_PROVIDER_DIR=<dir> uses the pulumi-resource-secure-eks
# already in <dir> instead of building it (the test of this script passes the binary under test).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"
example="${EXAMPLE:-yaml-minimal}"

scripts/install-pulumi.sh >/dev/null
scripts/install-emulator.sh >/dev/null
# shellcheck source=scripts/pulumi-env.sh
. scripts/pulumi-env.sh

if [ -n "${SECURE_EKS_PROVIDER_DIR:-}" ]; then
    plugin_dir="$SECURE_EKS_PROVIDER_DIR"
else
    echo "==> building the provider" >&2
    cargo build -q -p secure-eks-server
    # Cargo's own answer, so an absolute or relative CARGO_TARGET_DIR both work.
    plugin_dir="$(cargo metadata --no-deps --format-version 1 --offline |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug"
fi
[ -x "$plugin_dir/pulumi-resource-secure-eks" ] || { echo "no provider binary in $plugin_dir" >&2; exit 1; }

own_state=0
if [ -z "${EMULATOR_STATE_DIR:-}" ]; then EMULATOR_STATE_DIR="$(mktemp -d)"; own_state=1; fi
export EMULATOR_STATE_DIR
work="$(mktemp -d)"
# By absolute path: the demo cd's into the work directory below. KEEP_EMULATOR=1 leaves the
# emulator running (stop it with `EMULATOR_STATE_DIR=... scripts/emulator.sh stop`).
cleanup() {
    if [ "${KEEP_EMULATOR:-0}" != 1 ]; then
        "$root/scripts/emulator.sh" stop >/dev/null 2>&1 || echo "demo: could not stop the emulator (state in $EMULATOR_STATE_DIR)" >&2
        [ "$own_state" = 0 ] || rm -rf "$EMULATOR_STATE_DIR"
    fi
    rm -rf "$work"
}
trap cleanup EXIT
url="$(scripts/emulator.sh start)"

cp -r "examples/$example" "$work/project"
case "$example" in
  yaml-*) sed -i "s#^\( *\)path: .*#\1path: $plugin_dir#" "$work/project/Pulumi.yaml" ;;
  # TypeScript, Python, Go: install the program's dependencies against the generated SDK.
  *) scripts/prepare-examples.sh "$work/project" >&2 ;;
esac
export PULUMI_BACKEND_URL="file://$work/state" PULUMI_HOME="$work/home"
mkdir -p "$work/state"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
cd "$work/project"
pulumi stack init dev --non-interactive >/dev/null
for svc in ec2 iam eks ssm sts kms logs elbv2; do
    pulumi config set --path "secure-eks:endpoints.$svc" "$url" >/dev/null
done
echo "==> pulumi preview ($example, emulator at $url)" >&2
pulumi preview --non-interactive --diff
echo "==> pulumi up" >&2
pulumi up --yes --non-interactive --skip-preview
pulumi stack output
if [ "${KEEP:-0}" != 1 ]; then
    echo "==> pulumi destroy" >&2
    pulumi destroy --yes --non-interactive --skip-preview
fi
