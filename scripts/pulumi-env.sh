# shellcheck shell=bash
# Source this file (`. scripts/pulumi-env.sh`) to run the pinned Pulumi CLI built by
# scripts/install-pulumi.sh fully offline. It only exports variables; it does not
# build anything (run scripts/install-pulumi.sh first) and it does not set the
# backend: each test sets PULUMI_BACKEND_URL=file://<its own tmpdir> itself.
#
#   PATH                                      <cache>/pulumi-v3.259.0/bin prepended (once)
#   PULUMI_HOME                               kept if set, else $SECURE_EKS_CACHE/pulumi-home
#   PULUMI_CONFIG_PASSPHRASE                  kept if set (or if ..._FILE is set), else empty
#   PULUMI_SKIP_UPDATE_CHECK=true             no version check against the service
#   PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true   never download plugins
#   PULUMI_DISABLE_REGISTRY_RESOLVE=true      never resolve packages via the registry
#   PULUMI_DIY_BACKEND_NO_LEGACY_WARNING=true
#   PULUMI_SKIP_CONFIRMATIONS=true            as if --yes were given
#
# Works in bash and zsh; safe to source repeatedly and under `set -euo pipefail`.

: "${SECURE_EKS_CACHE:=$HOME/.cache/secure-eks}"
export SECURE_EKS_CACHE

SECURE_EKS_PULUMI_VERSION=v3.259.0
SECURE_EKS_PULUMI_BIN="$SECURE_EKS_CACHE/pulumi-$SECURE_EKS_PULUMI_VERSION/bin"
export SECURE_EKS_PULUMI_VERSION SECURE_EKS_PULUMI_BIN

case ":${PATH:-}:" in
  *":$SECURE_EKS_PULUMI_BIN:"*) ;;
  *) PATH="$SECURE_EKS_PULUMI_BIN${PATH:+:$PATH}" ;;
esac
export PATH

: "${PULUMI_HOME:=$SECURE_EKS_CACHE/pulumi-home}"
export PULUMI_HOME

# The passphrase secrets manager (used by file:// stacks) needs one of the two to be
# set; an empty passphrase is accepted.
if [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  export PULUMI_CONFIG_PASSPHRASE=
fi

export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_DISABLE_REGISTRY_RESOLVE=true
export PULUMI_DIY_BACKEND_NO_LEGACY_WARNING=true
export PULUMI_SKIP_CONFIRMATIONS=true

if [ ! -x "$SECURE_EKS_PULUMI_BIN/pulumi" ]; then
  echo "pulumi-env.sh: $SECURE_EKS_PULUMI_BIN/pulumi not found; run scripts/install-pulumi.sh" >&2
fi
