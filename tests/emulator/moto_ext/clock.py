"""Emulated time: resources pass through their real states (CREATING, pending, DELETING, ...) for
as long as AWS takes, scaled down for tests.

SECURE_EKS_EMULATOR_TIME_SCALE = seconds of emulator time per real AWS minute (default 1.0:
a 10-minute cluster create takes 10 s; 0 = every transition is due at once, i.e. on the next
request, so the create call itself still answers CREATING as AWS does). `POST /_time
{"scale": x}` changes it at run time (GET /_time reads it); it applies to transitions scheduled
afterwards. Transitions are applied lazily, before each request is served (`tick()`), so a
resource is never seen in a state it has already left.
"""
import heapq
import itertools
import os
import sys
import threading
import time
import traceback

_lock = threading.RLock()
_events = []  # heap of (due monotonic seconds, seq, generation, fn)
_seq = itertools.count()
_generation = 0
_scale = float(os.environ.get("SECURE_EKS_EMULATOR_TIME_SCALE", "1.0") or 1.0)


def scale():
    return _scale


def set_scale(value):
    global _scale
    value = float(value)
    if value < 0:
        raise ValueError("time scale must be >= 0")
    _scale = value


def seconds(aws_minutes):
    """How long `aws_minutes` of AWS time lasts here."""
    return aws_minutes * _scale


def after(aws_minutes, fn):
    """Run `fn()` once `aws_minutes` (AWS time) have passed, before the next request after that."""
    with _lock:
        heapq.heappush(_events, (time.monotonic() + seconds(aws_minutes), next(_seq), _generation, fn))


def tick():
    """Apply every transition that is due (in due order)."""
    now = time.monotonic()
    with _lock:
        while _events and _events[0][0] <= now:
            _, _, gen, fn = heapq.heappop(_events)
            if gen != _generation:
                continue
            try:
                fn()
            except Exception:  # a transition on state a reset removed: report, keep serving
                traceback.print_exc(file=sys.stderr)


def reset():
    """Forget every pending transition (POST /moto-api/reset)."""
    global _generation
    with _lock:
        _events.clear()
        _generation += 1


def pending():
    with _lock:
        return len(_events)
