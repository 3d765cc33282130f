#!/usr/bin/env bash
# Builds the real Pulumi CLI and its YAML language host from pinned Go modules, and
# our own language hosts (tools/langhost), and installs them into a cache
# directory outside the clone:
#
#   ${SECURE_EKS_CACHE:-$HOME/.cache/secure-eks}/pulumi-v3.259.0/bin/
#     pulumi                     github.com/pulumi/pulumi/pkg/v3/cmd/pulumi        v3.259.0
#     pulumi-language-yaml       github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml v1.38.1
#     pulumi-language-nodejs     tools/langhost (ours; one binary, hard-linked under
#     pulumi-language-python       four names): GeneratePackage for `pulumi package
#     pulumi-language-go           gen-sdk` (all four), and running nodejs, python and
#     pulumi-language-dotnet       go programs (Run, InstallDependencies, About)
#
# The official nodejs, python and go language hosts are Go modules inside
# pulumi/pulumi that are never tagged, so the module proxy serves them at no
# version (403 for v3.259.0 and for the release commit). They are not built here,
# and no upstream source is copied into this repository; tools/langhost is our own,
# written from the published protocol; see tools/pulumi/README.md.
#
# The versions are pinned by the modules tools/pulumi/go.mod, tools/pulumi/yaml/go.mod
# and tools/langhost/go.mod (and their committed go.sum); see tools/pulumi/README.md.
#
# Usage:   PULUMI_BIN=$(scripts/install-pulumi.sh | tail -1)
#          scripts/install-pulumi.sh --force      # rebuild even if up to date
# The last line of stdout is the bin directory; progress goes to stderr.
# Idempotent: when the binaries are present, were built from the current pins and
# `pulumi version` prints v3.259.0, it exits within a second without touching Go.
# After one successful run everything needed is in the Go module cache, so a
# rebuild (e.g. after the build cache was cleaned) also works without a network.
#
# Environment:
#   SECURE_EKS_CACHE     cache root (default $HOME/.cache/secure-eks)
#   PULUMI_BUILD_JOBS    go build -p value (default 2: the machines have 2 cores)
#   GOMODCACHE, GOCACHE  honoured; defaults are Go's own (GOPATH is left alone)
set -euo pipefail

PULUMI_VERSION=v3.259.0
PULUMI_YAML_VERSION=v1.38.1

log() { printf 'install-pulumi: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown argument: $arg" ;;
  esac
done

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools_dir=$repo_root/tools/pulumi
langhost_dir=$repo_root/tools/langhost
cache_root=${SECURE_EKS_CACHE:-$HOME/.cache/secure-eks}
prefix=$cache_root/pulumi-$PULUMI_VERSION
bin_dir=$prefix/bin
stamp_file=$prefix/.build-stamp

# Our language hosts: one binary, installed under these names (the name picks the language).
langhosts=(pulumi-language-nodejs pulumi-language-python pulumi-language-go pulumi-language-dotnet)
binaries=(pulumi pulumi-language-yaml "${langhosts[@]}")
# GetPluginInfo version of our hosts: the pkg/v3 code generators they embed, marked as ours.
LANGHOST_VERSION=${PULUMI_VERSION#v}+secure-eks

# Fingerprint of everything that determines the build: pins, flags and the sources of
# tools/pulumi and tools/langhost (including files it embeds). A change to any of them
# triggers a rebuild.
build_flags_id="trimpath;osusergo,grpcnotrace;-s -w;CGO_ENABLED=0;$PULUMI_VERSION;$PULUMI_YAML_VERSION;$LANGHOST_VERSION;${langhosts[*]}"
fingerprint() {
  (
    cd "$repo_root/tools"
    printf '%s\n' "$build_flags_id"
    find pulumi langhost -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' -o -name '*.png' -o -name '*.py' \) -print0 \
      | LC_ALL=C sort -z | xargs -0 sha256sum
  ) | sha256sum | cut -d' ' -f1
}

up_to_date() {
  local f
  [[ -f $stamp_file ]] || return 1
  for f in "${binaries[@]}"; do
    [[ -x $bin_dir/$f ]] || return 1
  done
  [[ $(cat "$stamp_file") == "$(fingerprint)" ]] || return 1
  [[ $("$bin_dir/pulumi" version 2>/dev/null) == "$PULUMI_VERSION" ]] || return 1
}

[[ -d $tools_dir ]] || die "missing $tools_dir"
[[ -d $langhost_dir ]] || die "missing $langhost_dir"

if [[ $force == 0 ]] && up_to_date; then
  log "pulumi $PULUMI_VERSION already installed"
  printf '%s\n' "$bin_dir"
  exit 0
fi

mkdir -p "$prefix"
# Serialise concurrent installs (parallel test jobs); re-check after the wait.
exec 9>"$prefix/.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
  if [[ $force == 0 ]] && up_to_date; then
    log "pulumi $PULUMI_VERSION installed by a concurrent run"
    printf '%s\n' "$bin_dir"
    exit 0
  fi
fi

# --- Go toolchain ------------------------------------------------------------
command -v go >/dev/null 2>&1 || die "go not found on PATH (need Go >= the go directive of tools/pulumi/go.mod)"
need_go=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$tools_dir/go.mod" "$tools_dir/yaml/go.mod" "$langhost_dir/go.mod" \
  | sort -V | tail -1)
# GOTOOLCHAIN=local: never try to download a toolchain; fail clearly instead.
export GOTOOLCHAIN=local
have_go=$(go env GOVERSION | sed 's/^go//')
if [[ $(printf '%s\n%s\n' "$need_go" "$have_go" | sort -V | head -1) != "$need_go" ]]; then
  die "Go $have_go is too old: the pinned Pulumi modules need Go >= $need_go"
fi

export GOFLAGS="-mod=mod -buildvcs=false"
export GOMODCACHE=${GOMODCACHE:-$(go env GOMODCACHE)}
export CGO_ENABLED=0          # as the official release builds
jobs=${PULUMI_BUILD_JOBS:-2}

ver_pkg=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version
yaml_ver_pkg=github.com/pulumi/pulumi-yaml/pkg/version.Version
common_flags=(-p "$jobs" -trimpath -tags osusergo,grpcnotrace)

stage=$(mktemp -d "$prefix/.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT

start=$SECONDS
log "building pulumi $PULUMI_VERSION with $(go version | cut -d' ' -f3) (-p $jobs; a cold build takes about 5-8 min on 2 cores)"
log "GOMODCACHE=$GOMODCACHE"
(
  cd "$tools_dir"
  go build "${common_flags[@]}" \
    -ldflags "-s -w -X $ver_pkg=$PULUMI_VERSION" \
    -o "$stage/" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
) >&2
log "building pulumi-language-yaml $PULUMI_YAML_VERSION ($((SECONDS - start))s so far)"
(
  cd "$tools_dir/yaml"
  go build "${common_flags[@]}" \
    -ldflags "-s -w -X $yaml_ver_pkg=$PULUMI_YAML_VERSION" \
    -o "$stage/pulumi-language-yaml" \
    github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml
) >&2
log "building our language hosts (tools/langhost) ($((SECONDS - start))s so far)"
(
  cd "$langhost_dir"
  go build "${common_flags[@]}" \
    -ldflags "-s -w -X main.version=$LANGHOST_VERSION" \
    -o "$stage/${langhosts[0]}" \
    .
) >&2
for f in "${langhosts[@]:1}"; do
  ln "$stage/${langhosts[0]}" "$stage/$f"
done

for f in "${binaries[@]}"; do
  [[ -x $stage/$f ]] || die "build did not produce $f"
done
got=$("$stage/pulumi" version)
[[ $got == "$PULUMI_VERSION" ]] || die "built pulumi reports version '$got', expected $PULUMI_VERSION"
got=$("$stage/${langhosts[0]}" --version)
[[ $got == "$LANGHOST_VERSION" ]] || die "built ${langhosts[0]} reports version '$got', expected $LANGHOST_VERSION"

# Swap the staged directory in, then record the fingerprint.
rm -f "$stamp_file"
rm -rf "$bin_dir.old"
[[ -e $bin_dir ]] && mv "$bin_dir" "$bin_dir.old"
mv "$stage" "$bin_dir"
chmod 0755 "$bin_dir"
rm -rf "$bin_dir.old"
fingerprint >"$stamp_file"
trap - EXIT

log "installed pulumi $PULUMI_VERSION, the YAML language host and our language hosts in $((SECONDS - start))s"
printf '%s\n' "$bin_dir"
