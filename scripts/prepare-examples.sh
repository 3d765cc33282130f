#!/usr/bin/env bash
# Prepares a COPY of examples/typescript, examples/python or examples/go to run with the
# Pulumi CLI against the SDK generated in sdk/ (the e2e tests call it on their workspace
# copies; provider/server/tests/e2e_languages.rs):
#
#   1. Paths in the copy that start with ../../ (meant relative to examples/<name>) become
#      absolute paths in this repository: Pulumi.yaml plugins.providers path, the npm
#      file: dependency, the requirements.txt line of the SDK, the go.mod replace.
#   2. Dependencies, by the runtime named in Pulumi.yaml:
#        nodejs  sdk/nodejs is built once (npm install + tsc + package.json into bin/, as
#                scripts/check-sdk.sh does) into <cache>/examples/sdk-nodejs-<hash>; the
#                program's file: dependency points at that build; `npm install` in the copy
#                (the copy's .npmrc says install-links=true: the SDK is copied, not linked).
#        python  sdk/python is built once into a wheel; a virtualenv with the program's
#                requirements.txt (the SDK line replaced by the wheel) is built once into
#                <cache>/examples/venv-<hash>, and the copy's runtime.options.virtualenv
#                is a symlink to it.
#        go      `go mod download` (the module cache usually has everything already).
#        yaml    nothing to install.
#
# <cache> is ${SECURE_EKS_CACHE:-$HOME/.cache/secure-eks}; npm and pip downloads are cached
# in <cache>/examples/{npm-cache,pip-cache}, Go uses its own GOMODCACHE/GOCACHE. Builds keyed
# by a content hash are reused: a warm run takes about 10 s for nodejs (npm install) and
# under a second for python and go. The repository is never written (sdk/ is only read).
#
# Usage:   scripts/prepare-examples.sh DIR...     (each DIR a copy holding Pulumi.yaml)
set -euo pipefail

log() { printf 'prepare-examples: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${SECURE_EKS_CACHE:=$HOME/.cache/secure-eks}"
work=$SECURE_EKS_CACHE/examples
mkdir -p "$work"

case "${1:-}" in
  -h|--help|"") sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
                [[ -n ${1:-} ]]; exit $? ;;
esac

# hash_tree DIR: a content hash of the sources in DIR (build artefacts left out).
hash_tree() {
  (
    cd "$1"
    find . -type f ! -path './node_modules/*' ! -path './bin/*' ! -path './build/*' ! -path './dist/*' \
      ! -path '*/__pycache__/*' ! -path '*.egg-info/*' ! -name package-lock.json -print0 \
      | LC_ALL=C sort -z | xargs -0 sha256sum
  ) | sha256sum | cut -c1-16
}

# with_lock NAME CMD...: run CMD holding <work>/NAME.lock (concurrent test threads share builds).
with_lock() {
  local name=$1
  shift
  (
    exec 9>"$work/$name.lock"
    command -v flock >/dev/null 2>&1 && flock 9
    "$@"
  )
}

# runtime_of DIR: the runtime name in DIR/Pulumi.yaml (`runtime: x` or `runtime:\n  name: x`).
runtime_of() {
  awk '
    /^runtime:[ \t]*[A-Za-z]/ { sub(/^runtime:[ \t]*/, ""); sub(/[ \t#].*/, ""); print; exit }
    /^runtime:[ \t]*$/ { inrt = 1; next }
    inrt && /^[ \t]+name:/ { sub(/^[ \t]+name:[ \t]*/, ""); sub(/[ \t#].*/, ""); print; exit }
    inrt && /^[^ \t]/ { exit }
  ' "$1/Pulumi.yaml"
}

# absolutize FILE: ../../ at the start of a path (after a quote, "file:", "=> ", "path: " or at
# the start of a line) becomes the repository root.
absolutize() {
  sed -i -E \
    -e "s#(\"file:)\.\./\.\./#\1$repo_root/#g" \
    -e "s#(=>[[:space:]]*)\.\./\.\./#\1$repo_root/#g" \
    -e "s#^([[:space:]]*path:[[:space:]]*)\.\./\.\./#\1$repo_root/#" \
    -e "s#^\.\./\.\./#$repo_root/#" \
    "$1"
}

# --- nodejs --------------------------------------------------------------------------
build_nodejs_sdk() {
  local out=$1
  [[ -f $out/.complete ]] && { touch "$out/.complete"; return 0; }
  log "building sdk/nodejs into $out (npm install + tsc)"
  rm -rf "$out"
  mkdir -p "$out"
  cp -a "$repo_root/sdk/nodejs/." "$out/"
  rm -rf "$out/node_modules" "$out/bin"
  (
    cd "$out"
    npm install --no-audit --no-fund --prefer-offline --cache "$work/npm-cache" --loglevel=error >&2
    npm run build --cache "$work/npm-cache" >&2
    [[ -f bin/index.js && -f bin/index.d.ts ]] || die "tsc produced no bin/index.js"
    cp package.json bin/
  )
  touch "$out/.complete"
}

prepare_nodejs() {
  local dir=$1 sdk_build
  sdk_build=$work/sdk-nodejs-$(hash_tree "$repo_root/sdk/nodejs")
  with_lock sdk-nodejs build_nodejs_sdk "$sdk_build"
  # The SDK dependency: file:<repo>/sdk/nodejs/bin -> the cached build.
  sed -i -E "s#\"file:[^\"]*/sdk/nodejs/bin\"#\"file:$sdk_build/bin\"#" "$dir/package.json"
  grep -q "file:$sdk_build/bin" "$dir/package.json" || die "$dir/package.json has no file: dependency on sdk/nodejs/bin"
  (
    cd "$dir"
    npm install --no-audit --no-fund --prefer-offline --cache "$work/npm-cache" --loglevel=error >&2
  )
  [[ -f $dir/node_modules/@pulumi/pulumi/cmd/run/index.js ]] || die "npm install left no @pulumi/pulumi"
  log "$dir: @pulumi/pulumi $(cd "$dir" && node -p 'require("@pulumi/pulumi/package.json").version')," \
    "@secure-eks/pulumi $(cd "$dir" && node -p 'require("@secure-eks/pulumi/package.json").version')"
}

# --- python --------------------------------------------------------------------------
build_python_wheel() {
  local out=$1
  [[ -f $out/.complete ]] && { touch "$out/.complete"; return 0; }
  log "building a wheel of sdk/python into $out"
  rm -rf "$out"
  mkdir -p "$out"
  cp -a "$repo_root/sdk/python/." "$out/src/"
  python3 -m pip wheel --no-deps --quiet --cache-dir "$work/pip-cache" "$out/src" -w "$out/dist" >&2
  touch "$out/.complete"
}

build_venv() {
  local venv=$1 req=$2
  [[ -f $venv/.complete && -x $venv/bin/python ]] && { touch "$venv/.complete"; return 0; }
  log "building the virtualenv $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --cache-dir "$work/pip-cache" \
    -r "$req" >&2
  "$venv/bin/python" -m pip check >&2
  cp "$req" "$venv/requirements.txt"
  touch "$venv/.complete"
}

prepare_python() {
  local dir=$1 wheel_dir wheel venv_opt req key venv
  wheel_dir=$work/sdk-python-$(hash_tree "$repo_root/sdk/python")
  with_lock sdk-python build_python_wheel "$wheel_dir"
  wheel=$(ls "$wheel_dir"/dist/*.whl)
  [[ -f $dir/requirements.txt ]] || die "$dir has no requirements.txt"
  # The SDK line (a path ending in sdk/python) becomes the wheel.
  req=$(mktemp)
  sed -E "s|^[^[:space:]#]*sdk/python/?[[:space:]]*\$|$wheel|" "$dir/requirements.txt" >"$req"
  grep -qF "$wheel" "$req" || die "$dir/requirements.txt has no line for sdk/python"
  key=$( (python3 --version; cat "$req") | sha256sum | cut -c1-16)
  venv=$work/venv-$key
  with_lock "venv-$key" build_venv "$venv" "$req"
  rm -f "$req"
  venv_opt=$(sed -n -E 's/^[[:space:]]+virtualenv:[[:space:]]*([^[:space:]#]+).*/\1/p' "$dir/Pulumi.yaml" | head -n1)
  [[ -n $venv_opt ]] || die "$dir/Pulumi.yaml sets no runtime.options.virtualenv"
  [[ $venv_opt == /* ]] && die "virtualenv $venv_opt is absolute: expected a path inside the program"
  rm -rf "${dir:?}/$venv_opt"
  ln -s "$venv" "$dir/$venv_opt"
  log "$dir: $venv_opt -> $venv (pulumi $("$venv/bin/python" -c 'from importlib.metadata import version; print(version("pulumi"))'))"
}

# --- go ------------------------------------------------------------------------------
prepare_go() {
  local dir=$1
  (
    cd "$dir"
    export GOTOOLCHAIN=local
    go mod download >&2
  )
  log "$dir: go modules ready ($(sed -n 's#^[[:space:]]*github.com/pulumi/pulumi/sdk/v3 ##p' "$dir/go.mod" | head -n1))"
}

# Builds keyed by an old hash (an earlier sdk/ or requirements) that no run used for 7 days.
prune() {
  local d
  for d in "$work"/sdk-nodejs-* "$work"/sdk-python-* "$work"/venv-*; do
    [[ -f $d/.complete ]] || continue
    if [[ -n $(find "$d/.complete" -mtime +7) ]]; then
      log "removing $d (unused for 7 days)"
      rm -rf "$d" "$d.lock"
    fi
  done
}

start=$SECONDS
prune
for dir in "$@"; do
  [[ -f $dir/Pulumi.yaml ]] || die "$dir/Pulumi.yaml not found"
  dir=$(cd "$dir" && pwd)
  case "$dir/" in
    "$repo_root"/*) die "$dir is inside the repository: run this on a copy (it rewrites paths)" ;;
  esac
  for f in Pulumi.yaml package.json requirements.txt go.mod; do
    [[ -f $dir/$f ]] && absolutize "$dir/$f"
  done
  runtime=$(runtime_of "$dir")
  t=$SECONDS
  case "$runtime" in
    nodejs) prepare_nodejs "$dir" ;;
    python) prepare_python "$dir" ;;
    go) prepare_go "$dir" ;;
    yaml) ;;
    *) die "$dir: unsupported runtime '$runtime'" ;;
  esac
  log "$dir: $runtime ready in $((SECONDS - t))s"
done
log "done in $((SECONDS - start))s"
