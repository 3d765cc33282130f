#!/usr/bin/env bash
# Regenerates the language SDKs from schema.json: the ONE way to produce sdk/.
#
#   sdk/nodejs   @secure-eks/pulumi          (TypeScript sources, package.json)
#   sdk/python   pulumi_secure_eks           (pyproject.toml)
#   sdk/go       module github.com/secure-eks/pulumi-secure-eks/sdk/go, package ./secureeks
#   sdk/dotnet   SecureEks                   (.csproj)
#
# It runs `pulumi package gen-sdk schema.json --language L --version V` with the pinned
# CLI and our SDK-generation language hosts (tools/langhost), both built by
# scripts/install-pulumi.sh, in the offline environment of scripts/pulumi-env.sh.
# Each language is generated into a staging directory and then swapped in, so a
# failure leaves sdk/ as it was. Output is deterministic: running it twice changes
# nothing. Never edit sdk/ by hand (sdk/README.md).
#
# Two steps follow the generators, because the generated packages are otherwise
# incomplete for this schema:
#   go      the generator writes no go.mod (no supportPack): we write go.mod (module =
#           the parent of language.go.importBasePath, i.e. sdk/go,
#           require github.com/pulumi/pulumi/sdk/v3 at the CLI's version) and
#           compute go.sum with `go mod tidy` (module cache first, then the proxy).
#   python  pyproject.toml says readme = "README.md" but the generator writes the
#           README inside the package only: it is copied to the project root.
#   all     README.md (the page npm, PyPI, pkg.go.dev and NuGet show: install and a short
#           example) comes from scripts/sdk-readme/<language>.md, written over the
#           generator's (and, for Python, over the package's copy too).
#
# Usage:   scripts/gen-sdk.sh [--out DIR] [--version V] [--language L]...
#            --out DIR       write DIR/<language> instead of sdk/<language> (check-sdk.sh)
#            --version V     SDK version. Default: the `version` of schema.json, which is the
#                            Cargo workspace version (the one version of the plugin, schema,
#                            SDKs and release tarball; `cargo run -p xtask -- version --check`).
#                            Only for throwaway builds: check-sdk.sh regenerates without it.
#            --language L    nodejs|python|go|dotnet; repeatable (default: all four)
set -euo pipefail

SDK_VERSION=""   # from schema.json unless --version is given
ALL_LANGUAGES=(nodejs python go dotnet)

log() { printf 'gen-sdk: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$repo_root/sdk
schema=$repo_root/schema.json
languages=()
while (($#)); do
  case "$1" in
    --out) [[ $# -ge 2 ]] || die "--out needs a value"; out=$2; shift 2 ;;
    --version) [[ $# -ge 2 ]] || die "--version needs a value"; SDK_VERSION=$2; shift 2 ;;
    --language) [[ $# -ge 2 ]] || die "--language needs a value"; languages+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
((${#languages[@]})) || languages=("${ALL_LANGUAGES[@]}")
for lang in "${languages[@]}"; do
  case " ${ALL_LANGUAGES[*]} " in *" $lang "*) ;; *) die "unknown language: $lang" ;; esac
done
[[ -f $schema ]] || die "missing $schema"
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The pinned CLI and our language hosts (a no-op within a second when up to date).
"$repo_root/scripts/install-pulumi.sh" >/dev/null
# shellcheck source=scripts/pulumi-env.sh
. "$repo_root/scripts/pulumi-env.sh"
for f in pulumi "${languages[@]/#/pulumi-language-}"; do
  [[ -x $SECURE_EKS_PULUMI_BIN/$f ]] || die "$SECURE_EKS_PULUMI_BIN/$f missing; run scripts/install-pulumi.sh"
done
# Use the hosts next to the pinned pulumi, never another pulumi-language-* on PATH.
export PULUMI_IGNORE_AMBIENT_PLUGINS=true

stage=$(mktemp -d "${TMPDIR:-/tmp}/secure-eks-gen-sdk.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# Values from schema.json the post-generation steps need.
read -r schema_version go_module python_package < <(python3 - "$schema" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
print(s.get("version") or "-", end=" ")
lang = s.get("language", {})
go = lang.get("go", {})
base = go.get("importBasePath", "")
# Without rootPackageName the package lives in a directory below the module root (sdk/go).
module = base if go.get("rootPackageName") else base.rsplit("/", 1)[0]
print(module, lang.get("python", {}).get("packageName", ""))
EOF
)
[[ $schema_version != - ]] || die "schema.json has no version"
: "${SDK_VERSION:=$schema_version}"
pulumi_go_sdk_version=$SECURE_EKS_PULUMI_VERSION   # the CLI's version, e.g. v3.259.0

finish_go() {
  local dir=$1
  [[ -n $go_module ]] || die "schema.json has no language.go.importBasePath"
  if [[ ! -f $dir/go.mod ]]; then
    local go_directive
    go_directive=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$repo_root/tools/langhost/go.mod")
    printf 'module %s\n\ngo %s\n\nrequire github.com/pulumi/pulumi/sdk/v3 %s\n' \
      "$go_module" "$go_directive" "$pulumi_go_sdk_version" >"$dir/go.mod"
  fi
  # go.sum (and the indirect requirements): from the module cache if it has
  # everything, else from the module proxy. Deterministic for fixed requirements.
  (
    cd "$dir"
    export GOTOOLCHAIN=local GOFLAGS=-mod=mod
    if ! GOPROXY=off go mod tidy >/dev/null 2>&1; then
      go mod tidy
    fi
  ) || die "go mod tidy failed in the generated Go SDK"
}

finish_python() {
  local dir=$1
  if [[ ! -f $dir/README.md && -n $python_package && -f $dir/$python_package/README.md ]]; then
    cp "$dir/$python_package/README.md" "$dir/README.md"
  fi
}

start=$SECONDS
for lang in "${languages[@]}"; do
  t=$SECONDS
  # Run from the staging directory so that no Pulumi.yaml around the caller matters.
  if ! (cd "$stage" && pulumi package gen-sdk "$schema" --language "$lang" --out "$stage" \
        --version "$SDK_VERSION") >"$stage/$lang.log" 2>&1; then
    cat "$stage/$lang.log" >&2
    die "pulumi package gen-sdk --language $lang failed"
  fi
  [[ -d $stage/$lang ]] || die "gen-sdk wrote no $lang directory"
  case "$lang" in
    go) finish_go "$stage/$lang" ;;
    python) finish_python "$stage/$lang" ;;
  esac
  readme=$repo_root/scripts/sdk-readme/$lang.md
  [[ -f $readme ]] || die "missing $readme"
  cp "$readme" "$stage/$lang/README.md"
  if [[ $lang == python && -n $python_package && -f $stage/$lang/$python_package/README.md ]]; then
    cp "$readme" "$stage/$lang/$python_package/README.md"
  fi
  chmod -R u=rwX,go=rX "$stage/$lang"
  log "$lang: $(find "$stage/$lang" -type f | wc -l) files ($((SECONDS - t))s)"
done

# Swap the new SDKs in only after every language was generated.
for lang in "${languages[@]}"; do
  rm -rf "${out:?}/$lang"
  mv "$stage/$lang" "$out/$lang"
done
log "wrote ${languages[*]} to $out in $((SECONDS - start))s (version $SDK_VERSION)"
