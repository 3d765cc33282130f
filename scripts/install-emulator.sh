#!/usr/bin/env bash
# Install the local AWS emulator (moto server + tests/emulator/moto_ext_server.py) into a
# cached virtualenv and print the venv's python path as the LAST line of stdout.
#
#   venv dir : ${SECURE_EKS_CACHE:-$HOME/.cache/secure-eks}/moto-venv-<sha256(requirements.txt)[:16]>
#   python   : $EMULATOR_PYTHON if set, else python3.11 (python3 if that is 3.11)
#
# Idempotent: a finished venv carries a .complete marker, and a second run only checks it.
# A half-built venv (no marker) is removed and rebuilt. Concurrent runs are serialised with flock.
# Progress goes to stderr; stdout carries only the python path.
set -euo pipefail

log() { printf '[install-emulator] %s\n' "$*" >&2; }

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
req="$repo_root/tests/emulator/requirements.txt"
[[ -f "$req" ]] || { log "missing $req"; exit 1; }

hash="$(sha256sum "$req" | cut -c1-16)"
cache="${SECURE_EKS_CACHE:-$HOME/.cache/secure-eks}"
venv="$cache/moto-venv-$hash"
py="$venv/bin/python"

is_ready() {
    [[ -f "$venv/.complete" && -x "$py" ]] && "$py" -c 'import moto, boto3' >/dev/null 2>&1
}

if is_ready; then
    log "cached venv ok: $venv"
    printf '%s\n' "$py"
    exit 0
fi

pick_python() {
    if [[ -n "${EMULATOR_PYTHON:-}" ]]; then
        printf '%s\n' "$EMULATOR_PYTHON"; return 0
    fi
    local cand
    for cand in python3.11 python3; do
        if command -v "$cand" >/dev/null 2>&1 &&
            [[ "$("$cand" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" == "3.11" ]]; then
            "$cand" -c 'import sys; print(sys.executable)'; return 0
        fi
    done
    return 1
}

base_py="$(pick_python)" || { log "python3.11 not found (set EMULATOR_PYTHON)"; exit 1; }

mkdir -p "$cache"
build() {
    # Re-check under the lock: another process may have finished meanwhile.
    if is_ready; then log "venv finished by a concurrent run"; return 0; fi
    if [[ -e "$venv" ]]; then log "removing incomplete venv $venv"; rm -rf "$venv"; fi
    log "creating venv $venv with $base_py"
    "$base_py" -m venv "$venv" >&2
    log "installing $(grep -c '==' "$req") pinned packages from $req"
    # stdout of pip goes to stderr so stdout stays clean for the caller.
    "$py" -m pip install --quiet --disable-pip-version-check --no-input \
        --require-virtualenv -r "$req" 1>&2
    "$py" -c 'import moto, boto3; print("moto", moto.__version__, "boto3", boto3.__version__)' >&2
    touch "$venv/.complete"
}

start=$SECONDS
if command -v flock >/dev/null 2>&1; then
    exec 9>"$venv.lock"
    flock 9
    build
    flock -u 9
else
    build
fi
log "ready in $((SECONDS - start))s"
printf '%s\n' "$py"
