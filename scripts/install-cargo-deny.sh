#!/usr/bin/env bash
# Installs cargo-deny, pinned, from crates.io (`cargo install --locked`, so its own Cargo.lock
# pins every dependency too) into a cache directory outside the clone:
#
#   ${SECURE_EKS_CACHE:-$HOME/.cache/secure-eks}/cargo-deny-0.20.2/bin/cargo-deny
#
# Usage:   DENY="$(scripts/install-cargo-deny.sh | tail -n1)/cargo-deny"
#          "$DENY" check bans licenses sources      # offline: needs only Cargo.lock and deny.toml
#          "$DENY" check advisories                 # needs the RustSec advisory DB (see below)
# The last line of stdout is the bin directory; progress goes to stderr. Idempotent: when the
# binary is there and reports the pinned version, it exits at once.
#
# The advisory DB is a git repository (github.com/rustsec/advisory-db) that cargo-deny clones
# into ~/.cargo/advisory-dbs on first use. Where that host cannot be reached (the sandboxed
# development machines reach only the package registries), `check advisories` fails to fetch
# it; run it on a machine with that access, or copy a clone there and pass
# `--disable-fetch`. It is therefore not part of the freshness checks in scripts/test.sh.
#
# A first build compiles about 300 crates (tens of minutes on 2 loaded cores).
#
# Environment:
#   SECURE_EKS_CACHE     cache root (default $HOME/.cache/secure-eks)
set -euo pipefail

VERSION=0.20.2
root="${SECURE_EKS_CACHE:-$HOME/.cache/secure-eks}/cargo-deny-$VERSION"
bin="$root/bin"

log() { printf 'install-cargo-deny: %s\n' "$*" >&2; }

if [[ -x "$bin/cargo-deny" ]] && "$bin/cargo-deny" --version 2>/dev/null | grep -q " $VERSION\$"; then
    echo "$bin"
    exit 0
fi
log "building cargo-deny $VERSION into $root"
mkdir -p "$root"
CARGO_TARGET_DIR="$root/target" cargo install --locked --version "=$VERSION" --root "$root" cargo-deny >&2
rm -rf "$root/target"
"$bin/cargo-deny" --version >&2
echo "$bin"
