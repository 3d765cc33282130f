#!/usr/bin/env bash
# The closing line of scripts/test.sh, from the log of the whole run:
#
#   tests: N passed, M failed, K skipped
#
# Counted from cargo's per-binary "test result" lines (ignored tests are skipped), pytest's
# summary (skips included) and check-sdk's `sdk: N passed, N failed, N skipped` line. Every
# skipped test or check is named above the closing line. Failures that leave no "test result"
# line are failures too: a test target that did not build ("could not compile"), a test binary
# that died (cargo's "test failed, to rerun" for a binary without a FAILED result line, e.g.
# after SIGABRT or SIGSEGV), and a runner that exited non-zero (the exit codes given after the
# log) without any counted failure. Exits 1 when anything failed.
#
# Usage: scripts/test-summary.sh LOG [EXIT_CODE...]
set -uo pipefail
log=$1
shift
codes="$*"
awk -v codes="$codes" '
  /test result: (ok|FAILED)\. [0-9]+ passed; [0-9]+ failed; [0-9]+ ignored/ {
    for (i = 1; i <= NF; i++) {
      if ($(i + 1) ~ /^passed;?$/) p += $i
      if ($(i + 1) ~ /^failed;?$/) f += $i
      if ($(i + 1) ~ /^ignored;?$/) s += $i
    }
    if ($0 ~ /FAILED\./) failed_bins++
    next
  }
  /^test .* \.\.\. ignored/ {
    line = $0; sub(/^test /, "", line)
    i = index(line, " ... ignored")
    reason = substr(line, i + 12); sub(/^, */, "", reason)
    names[++n] = "cargo: " substr(line, 1, i - 1) " (ignored" (reason == "" ? "" : ": " reason) ")"
    next
  }
  /^error: could not compile/ { f++; broken[++b] = $0; next }
  /^error: (test|doctest) failed, to rerun pass/ { reruns++; rerun_line[reruns] = $0; next }
  /^(=+ )?[0-9]+ (passed|failed|skipped|errors?|xpassed|xfailed|deselected)(, [0-9]+ [a-z]+)* in [0-9.]+s/ {
    line = $0; gsub(/=/, "", line)
    k = split(line, parts, ", ")
    for (i = 1; i <= k; i++) {
      split(parts[i], w, " ")
      if (w[2] == "passed") p += w[1]
      if (w[2] == "failed" || w[2] ~ /^errors?$/) f += w[1]
      if (w[2] == "skipped") s += w[1]
    }
    next
  }
  /^SKIPPED \[[0-9]+\]/ { names[++n] = "pytest: " $0; next }
  /^sdk: [0-9]+ passed, [0-9]+ failed/ {
    p += $2; f += $4
    if ($0 ~ /skipped/) s += $6
    next
  }
  /^skip  / { line = $0; sub(/^skip +/, "", line); names[++n] = "sdk: " line; next }
  END {
    # A binary that failed without a FAILED result line crashed before printing it.
    crashed = reruns - failed_bins
    if (crashed > 0) {
      f += crashed
      print "crashed test binaries (no \"test result\" line): " crashed
    }
    for (i = 1; i <= b; i++) print "did not build: " broken[i]
    nonzero = 0
    split(codes, cs, " ")
    for (i in cs) if (cs[i] != "" && cs[i] != 0) nonzero = 1
    if (nonzero && f == 0) {
      f = 1
      print "a runner exited non-zero without a counted failure (exit codes: " codes "): counted as 1 failure"
    }
    for (i = 1; i <= n; i++) print "skipped: " names[i]
    printf "tests: %d passed, %d failed, %d skipped\n", p, f, s
    exit (f > 0)
  }
' "$log"
