#!/usr/bin/env bash
# Run the local AWS emulator (tests/emulator/moto_ext_server.py) in the background.
#
#   scripts/emulator.sh start   start (or reuse) a server on 127.0.0.1; prints http://127.0.0.1:<port>
#   scripts/emulator.sh stop    stop the server started by `start`
#   scripts/emulator.sh url     print the URL of the running server (exit 1 if none)
#   scripts/emulator.sh status  like url, but says "stopped" on stderr instead of failing loudly
#
# Env: SECURE_EKS_EMULATOR_TIME_SCALE (seconds per real AWS minute, default 1.0; 0 = instant),
#      EMULATOR_PORT (default: a free port), EMULATOR_STATE_DIR (default /tmp/secure-eks-emulator),
#      EMULATOR_START_TIMEOUT seconds (default 60), plus what scripts/install-emulator.sh reads.
# State dir holds: pid, port, server.log.
set -euo pipefail

log() { printf '[emulator] %s\n' "$*" >&2; }

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="${EMULATOR_STATE_DIR:-/tmp/secure-eks-emulator}"
pid_file="$state/pid"
port_file="$state/port"
log_file="$state/server.log"

# Readiness probe: STS GetCallerIdentity. The fake SigV4 Authorization header makes moto route
# the request to STS (without it, moto treats a bare POST / as S3).
probe() {
    curl -sS --max-time 2 -X POST \
        -H 'Authorization: AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0' \
        -H 'Content-Type: application/x-www-form-urlencoded' \
        --data 'Action=GetCallerIdentity&Version=2011-06-15' \
        "http://127.0.0.1:$1/" 2>/dev/null | grep -Eq '<Account>[0-9]{12}</Account>'
}

running_port() {
    [[ -f "$pid_file" && -f "$port_file" ]] || return 1
    local pid port
    pid="$(cat "$pid_file")"; port="$(cat "$port_file")"
    kill -0 "$pid" 2>/dev/null || return 1
    probe "$port" || return 1
    printf '%s\n' "$port"
}

free_port() {
    "$1" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cmd_start() {
    local port
    if port="$(running_port)"; then
        log "already running (pid $(cat "$pid_file"))"
        printf 'http://127.0.0.1:%s\n' "$port"
        return 0
    fi
    mkdir -p "$state"
    rm -f "$pid_file" "$port_file"
    local py
    py="$("$repo_root/scripts/install-emulator.sh" | tail -n 1)"
    port="${EMULATOR_PORT:-$(free_port "$py")}"
    if probe "$port"; then
        log "port $port already answers (another emulator not started by this state dir?); refusing to start"
        return 1
    fi
    log "starting on 127.0.0.1:$port (log: $log_file)"
    # setsid + nohup: the server outlives this shell; stdin closed so it never waits on a tty.
    setsid nohup "$py" "$repo_root/tests/emulator/moto_ext_server.py" -H 127.0.0.1 -p "$port" \
        </dev/null >"$log_file" 2>&1 &
    local pid=$!
    printf '%s\n' "$pid" >"$pid_file"
    printf '%s\n' "$port" >"$port_file"
    local deadline=$((SECONDS + ${EMULATOR_START_TIMEOUT:-60}))
    until kill -0 "$pid" 2>/dev/null && probe "$port" && kill -0 "$pid" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "server exited during start-up; last log lines:"
            tail -n 30 "$log_file" >&2 || true
            rm -f "$pid_file" "$port_file"
            return 1
        fi
        if ((SECONDS >= deadline)); then
            log "server did not answer within ${EMULATOR_START_TIMEOUT:-60}s; stopping it"
            tail -n 30 "$log_file" >&2 || true
            cmd_stop || true
            return 1
        fi
        sleep 0.2
    done
    log "ready (pid $pid)"
    printf 'http://127.0.0.1:%s\n' "$port"
}

cmd_stop() {
    if [[ ! -f "$pid_file" ]]; then
        log "not running"
        return 0
    fi
    local pid
    pid="$(cat "$pid_file")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        local i
        for i in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "pid $pid ignored SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        log "stopped pid $pid"
    else
        log "pid $pid was not running"
    fi
    rm -f "$pid_file" "$port_file"
}

cmd_url() {
    local port
    if port="$(running_port)"; then
        printf 'http://127.0.0.1:%s\n' "$port"
    else
        log "not running"
        return 1
    fi
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    url) cmd_url ;;
    status) cmd_url || true ;;
    *)
        echo "usage: $0 start|stop|url|status" >&2
        exit 2
        ;;
esac
