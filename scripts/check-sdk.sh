#!/usr/bin/env bash
# Checks the generated SDKs in sdk/:
#
#   fresh:<lang>     sdk/<lang> equals what scripts/gen-sdk.sh generates now from
#                    schema.json (regenerated into a temp dir and diffed; build
#                    artefacts such as node_modules/, bin/, build/ are ignored)
#   nodejs:build     npm install (registry) + tsc, with the TypeScript version the
#                    generated package.json asks for
#   nodejs:load      require() the compiled package (publish layout: bin/ + package.json)
#   python:wheel     build a wheel (pip wheel --no-deps, setuptools from PyPI)
#   python:import    install it with its dependencies (pulumi pinned to the CLI's
#                    version) in a venv and import every module
#   go:tidy          go.mod/go.sum are tidy (go mod tidy -diff)
#   go:build         go build ./...
#   go:vet           go vet ./...
#   dotnet:build     dotnet build, when a .NET SDK is installed; skipped otherwise
#
# The nodejs/python/dotnet builds run on copies under
# ${SECURE_EKS_CACHE:-$HOME/.cache/secure-eks}/sdk-check (the Go checks only read
# sdk/go), so sdk/ is never written. npm and pip downloads are cached there, Go uses its
# own GOMODCACHE/GOCACHE: a warm run takes about 20 s, a cold one a few minutes.
# Build checks run even when sdk/ is stale (they check what is committed).
# Prints one line per check and finally `sdk: N passed, N failed[, N skipped]`;
# exits non-zero if any check failed. Logs: <cache>/sdk-check/logs/<check>.log.
#
# Usage:   scripts/check-sdk.sh
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sdk=$repo_root/sdk
: "${SECURE_EKS_CACHE:=$HOME/.cache/secure-eks}"
export SECURE_EKS_CACHE
work=$SECURE_EKS_CACHE/sdk-check
logs=$work/logs
mkdir -p "$logs"

case "${1:-}" in
  -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
  "") ;;
  *) echo "check-sdk: unknown argument: $1" >&2; exit 2 ;;
esac

# Serialise concurrent runs: they share the work directories.
exec 8>"$work/.lock"
command -v flock >/dev/null 2>&1 && flock 8

languages=(nodejs python go dotnet)
passed=0 failed=0 skipped=0
declare -A status=()
current=""  # the running check; `note TEXT` sets the detail on its result line

# check NAME "NEEDS..." FUNCTION [ARGS...]: runs FUNCTION ARGS (in a subshell, errexit
# on) with its output in logs/NAME.log. Skipped when a check it needs did not pass.
check() {
  local name=$1 needs=$2 need t rc
  shift 2
  for need in $needs; do
    if [[ ${status[$need]:-} != ok ]]; then
      printf 'skip  %-14s needs %s\n' "$name" "$need"
      status[$name]=skip; skipped=$((skipped + 1))
      return 0
    fi
  done
  t=$SECONDS
  current=$name
  rm -f "$logs/$name.detail"
  set +e
  ( set -euo pipefail; "$@" ) >"$logs/$name.log" 2>&1
  rc=$?
  set -e
  local detail=""
  [[ -f $logs/$name.detail ]] && detail=$(<"$logs/$name.detail")
  if [[ $rc == 0 ]]; then
    printf 'ok    %-14s %4ss  %s\n' "$name" "$((SECONDS - t))" "$detail"
    status[$name]=ok; passed=$((passed + 1))
  else
    printf 'FAIL  %-14s %4ss  (exit %s; %s)\n' "$name" "$((SECONDS - t))" "$rc" "$logs/$name.log"
    tail -n 40 "$logs/$name.log" | sed 's/^/      /'
    status[$name]=fail; failed=$((failed + 1))
  fi
}
# note TEXT: the detail shown on the result line of the running check.
note() { printf '%s' "$*" >"$logs/$current.detail"; }
skip() {
  printf 'skip  %-14s %s\n' "$1" "$2"
  status[$1]=skip; skipped=$((skipped + 1))
}

start=$SECONDS
echo "check-sdk: sdk/ = $sdk, work dir = $work"

# --- fresh: regenerate and compare -------------------------------------------------
fresh_dir=$(mktemp -d "${TMPDIR:-/tmp}/secure-eks-check-sdk.XXXXXX")
trap 'rm -rf "$fresh_dir"' EXIT
do_generate() { "$repo_root/scripts/gen-sdk.sh" --out "$fresh_dir/sdk"; note "scripts/gen-sdk.sh into a temp dir"; }
check generate "" do_generate

# Artefacts of local builds (each generated .gitignore lists them) are not compared.
diff_excludes=(-x node_modules -x bin -x obj -x build -x dist -x '*.egg-info' -x __pycache__
  -x .mypy_cache -x package-lock.json -x yarn.lock)
do_fresh() {
  local lang=$1
  [[ -d $sdk/$lang ]] || { echo "sdk/$lang does not exist: run scripts/gen-sdk.sh"; return 1; }
  if ! diff -r "${diff_excludes[@]}" "$sdk/$lang" "$fresh_dir/sdk/$lang" >"$logs/fresh-$lang.diff" 2>&1; then
    echo "sdk/$lang is stale: run scripts/gen-sdk.sh and commit sdk/. Differences:"
    head -n 60 "$logs/fresh-$lang.diff"
    return 1
  fi
  note "sdk/$lang matches schema.json ($(find "$sdk/$lang" -type f | wc -l) files)"
}
for lang in "${languages[@]}"; do
  check "fresh:$lang" generate do_fresh "$lang"
done

# --- nodejs -----------------------------------------------------------------------
node_work=$work/nodejs
do_nodejs_build() {
  command -v npm >/dev/null || { echo "npm not found"; return 1; }
  mkdir -p "$node_work"
  # Fresh copy of the sources; node_modules and the lock file are kept between runs.
  find "$node_work" -mindepth 1 -maxdepth 1 ! -name node_modules ! -name package-lock.json -exec rm -rf {} +
  cp -a "$sdk/nodejs/." "$node_work/"
  cd "$node_work"
  npm install --no-audit --no-fund --prefer-offline --cache "$work/npm-cache" --loglevel=warn
  local tsc_version
  tsc_version=$(node_modules/.bin/tsc --version)
  npm run build --cache "$work/npm-cache"
  [[ -f bin/index.js && -f bin/index.d.ts ]] || { echo "tsc produced no bin/index.js"; return 1; }
  note "tsc ${tsc_version#Version }, @pulumi/pulumi $(node -p 'require("@pulumi/pulumi/package.json").version')"
}
do_nodejs_load() {
  cd "$node_work"
  # The published package is bin/ with package.json beside the compiled code.
  cp package.json bin/
  node -e '
    const m = require("./bin");
    for (const name of ["SecureEksCluster", "Provider"]) {
      if (typeof m[name] !== "function") throw new Error(name + " is not exported");
    }
    if (!m.types || !m.types.enums || !m.config) throw new Error("types/config missing");
    console.log("exports:", Object.keys(m).sort().join(", "));
  '
  note "require(\"bin\") exports SecureEksCluster, Provider, types, config"
}
check nodejs:build "" do_nodejs_build
check nodejs:load nodejs:build do_nodejs_load

# --- python -----------------------------------------------------------------------
py_work=$work/python
py_version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
venv=$work/python-venv-$py_version
pulumi_py_version=${SECURE_EKS_PULUMI_VERSION:-v3.259.0}
pulumi_py_version=${pulumi_py_version#v}
export PIP_CACHE_DIR=$work/pip-cache PIP_DISABLE_PIP_VERSION_CHECK=1
do_python_wheel() {
  rm -rf "$py_work" && mkdir -p "$py_work"
  cp -a "$sdk/python/." "$py_work/src/"
  [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip wheel --no-deps --quiet "$py_work/src" -w "$py_work/dist"
  local whl
  whl=$(cd "$py_work/dist" && ls ./*.whl)
  note "${whl#./}"
}
do_python_import() {
  printf 'pulumi==%s\n' "$pulumi_py_version" >"$py_work/constraints.txt"
  "$venv/bin/python" -m pip install --quiet -c "$py_work/constraints.txt" "$py_work"/dist/*.whl
  "$venv/bin/python" -m pip install --quiet --no-deps --force-reinstall "$py_work"/dist/*.whl
  "$venv/bin/python" -m pip check
  cd "$py_work"   # not sdk/python: import the installed wheel
  "$venv/bin/python" - <<'EOF' | tee "$py_work/import.out"
import importlib, importlib.resources, json, pkgutil
import pulumi, pulumi_secure_eks as p
mods = sorted(m.name for m in pkgutil.walk_packages(p.__path__, p.__name__ + "."))
for m in mods:
    importlib.import_module(m)
assert isinstance(p.SecureEksCluster, type) and isinstance(p.Provider, type)
plugin = json.loads(importlib.resources.files(p).joinpath("pulumi-plugin.json").read_text())
assert plugin["name"] == "secure-eks", plugin
from importlib.metadata import version
print(f"imported {len(mods) + 1} modules, version {p._utilities.get_version()}, pulumi {version('pulumi')}")
EOF
  note "$(tail -n 1 "$py_work/import.out")"
}
check python:wheel "" do_python_wheel
check python:import python:wheel do_python_import

# --- go ---------------------------------------------------------------------------
go_env() { export GOTOOLCHAIN=local GOFLAGS=-mod=readonly; cd "$sdk/go"; }
do_go_tidy() { go_env; go mod tidy -diff; note "$(sed -n 's/^module //p' go.mod)"; }
do_go_build() { go_env; go build ./...; note "$(go list ./... | wc -l) packages, $(go version | cut -d' ' -f3)"; }
do_go_vet() { go_env; go vet ./...; note "go vet ./... clean"; }
if command -v go >/dev/null; then
  check go:tidy "" do_go_tidy
  check go:build "" do_go_build
  check go:vet go:build do_go_vet
else
  for c in go:tidy go:build go:vet; do skip "$c" "go not installed"; done
fi

# --- dotnet -----------------------------------------------------------------------
do_dotnet_build() {
  rm -rf "$work/dotnet" && mkdir -p "$work/dotnet"
  cp -a "$sdk/dotnet/." "$work/dotnet/"
  cd "$work/dotnet"
  dotnet build --nologo
  note "dotnet $(dotnet --version)"
}
if command -v dotnet >/dev/null; then
  check dotnet:build "" do_dotnet_build
else
  skip dotnet:build "no .NET SDK on this machine (sdk/dotnet is generated and checked for freshness only)"
fi

echo "check-sdk: done in $((SECONDS - start))s"
if ((skipped)); then
  echo "sdk: $passed passed, $failed failed, $skipped skipped"
else
  echo "sdk: $passed passed, $failed failed"
fi
((failed == 0))
