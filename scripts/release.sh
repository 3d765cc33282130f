#!/usr/bin/env bash
# Packages the provider as a Pulumi plugin tarball:
#
#   dist/pulumi-resource-secure-eks-v<version>-<os>-<arch>.tar.gz
#
# with the binary `pulumi-resource-secure-eks` at the root of the archive, plus README.md
# and LICENSE when the repository has them. That is the layout
# `pulumi plugin install resource secure-eks <version> --file <tarball>` expects.
#
# <version> is the Cargo workspace version (`[workspace.package] version` in Cargo.toml,
# read through `cargo metadata`): the same version the binary reports in GetPluginInfo,
# schema.json and the SDKs carry (`cargo run -p xtask -- version --check` checks them).
# The archive is reproducible: sorted entries, owner 0, mtime $SOURCE_DATE_EPOCH (or 0),
# gzip without a timestamp. Prints the tarball path as its last line on stdout.
#
# Usage:   scripts/release.sh [--binary PATH | --profile P] [--out DIR] [--platform OS-ARCH]
#            --binary PATH   package this prebuilt binary; nothing is built. Tests use this
#                            with the debug binary (target/debug/pulumi-resource-secure-eks),
#                            so they never need a release build.
#            --profile P     build with `cargo build --profile P -p secure-eks-server` first
#                            (default: release, which takes several minutes on 2 cores;
#                            `--profile dev` packages a debug build)
#            --out DIR       where to write the tarball (default: dist/)
#            --platform OS-ARCH   the name's platform (default: this machine's, e.g.
#                            linux-amd64); it does not cross-compile
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { printf 'release: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

binary="" profile=release out=$repo_root/dist platform=""
while (($#)); do
  case "$1" in
    --binary) [[ $# -ge 2 ]] || die "--binary needs a value"; binary=$2; shift 2 ;;
    --profile) [[ $# -ge 2 ]] || die "--profile needs a value"; profile=$2; shift 2 ;;
    --out) [[ $# -ge 2 ]] || die "--out needs a value"; out=$2; shift 2 ;;
    --platform) [[ $# -ge 2 ]] || die "--platform needs a value"; platform=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done

# The one version: Cargo's resolution of the server crate (which inherits the workspace's).
version=$(cd "$repo_root" && cargo metadata --no-deps --format-version 1 --offline |
  python3 -c 'import json, sys
pkgs = [p for p in json.load(sys.stdin)["packages"] if p["name"] == "secure-eks-server"]
print(pkgs[0]["version"] if pkgs else "")')
[[ -n $version ]] || die "cargo metadata reports no version for secure-eks-server"

if [[ -z $platform ]]; then
  case "$(uname -s)" in
    Linux) os=linux ;; Darwin) os=darwin ;; *) die "unknown OS $(uname -s); pass --platform" ;;
  esac
  case "$(uname -m)" in
    x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) die "unknown arch $(uname -m); pass --platform" ;;
  esac
  platform=$os-$arch
fi

if [[ -z $binary ]]; then
  t=$SECONDS
  log "cargo build --profile $profile -p secure-eks-server"
  (cd "$repo_root" && cargo build --profile "$profile" -p secure-eks-server)
  case "$profile" in dev|test) dir=debug ;; bench) dir=release ;; *) dir=$profile ;; esac
  target_dir=${CARGO_TARGET_DIR:-$repo_root/target}
  binary=$target_dir/$dir/pulumi-resource-secure-eks
  log "built in $((SECONDS - t))s"
fi
[[ -f $binary && -x $binary ]] || die "no executable at $binary"

mkdir -p "$out"
out=$(cd "$out" && pwd)
name=pulumi-resource-secure-eks-v$version-$platform.tar.gz
stage=$(mktemp -d "${TMPDIR:-/tmp}/secure-eks-release.XXXXXX")
trap 'rm -rf "$stage"' EXIT

install -m 0755 "$binary" "$stage/pulumi-resource-secure-eks"
files=(pulumi-resource-secure-eks)
for f in README.md LICENSE; do
  if [[ -f $repo_root/$f ]]; then
    install -m 0644 "$repo_root/$f" "$stage/$f"
    files+=("$f")
  fi
done

t=$SECONDS
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner \
  --mtime="@${SOURCE_DATE_EPOCH:-0}" --format=gnu -cf - "${files[@]}" |
  gzip -n >"$stage/$name"
mv "$stage/$name" "$out/$name"
log "wrote $out/$name ($(du -h "$out/$name" | cut -f1), ${files[*]}, $((SECONDS - t))s)"
echo "$out/$name"
