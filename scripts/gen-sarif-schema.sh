#!/usr/bin/env bash
# Writes provider/server/tests/data/sarif-schema-2.1.0.json: the published SARIF 2.1.0 JSON
# schema (rtm.5, the text OASIS published as 2.1.0), taken from the pinned npm package
# @microsoft/jest-sarif (lib/schemas/sarif-2.1.0-rtm.5.json), whose tarball sha256 is pinned here.
# The audit test (provider/server/tests/audit_cli.rs) validates the `--format sarif` output
# against it with the jsonschema crate. Needs npm and the npm registry.
#   scripts/gen-sarif-schema.sh          write the file
#   scripts/gen-sarif-schema.sh --check  fail if the committed file differs
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PKG=@microsoft/jest-sarif
VERSION=1.0.0-beta.0
SHA256=748e2c3d1a842e7bb258416685c7ea3a0da40005b72267b2052c2856d48ad102
OUT=provider/server/tests/data/sarif-schema-2.1.0.json
cache="${XDG_CACHE_HOME:-$HOME/.cache}/secure-eks/sarif-schema"
mkdir -p "$cache"
tgz="$cache/microsoft-jest-sarif-$VERSION.tgz"
if [ ! -f "$tgz" ]; then
  (cd "$cache" && npm pack --silent "$PKG@$VERSION" >/dev/null)
fi
echo "$SHA256  $tgz" | sha256sum -c --quiet - >&2
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
tar xzf "$tgz" -C "$tmp" package/lib/schemas/sarif-2.1.0-rtm.5.json
if [ "${1:-}" = "--check" ]; then
  cmp -s "$tmp/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$OUT" || { echo "$OUT is stale: run scripts/gen-sarif-schema.sh" >&2; exit 1; }
  echo "$OUT is fresh" >&2
else
  mkdir -p "$(dirname "$OUT")"
  cp "$tmp/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$OUT"
  echo "wrote $OUT" >&2
fi
