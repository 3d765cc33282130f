"""The project's AWS emulator (tests/emulator/moto_ext_server.py, unchanged) with a request trace
for the benchmarks: every AWS request's key ("METHOD PATH X-Amz-Target Action", as the /_fault
rules see it) and its start and end times, so a benchmark can count the calls of a run and their
peak concurrency.

    <emulator venv python> bench/traced_emulator.py -H 127.0.0.1 -p <port>

    GET    /_trace   JSON list of [key, start_s, end_s] since the last DELETE (times: monotonic s)
    DELETE /_trace   clear it

The start time is taken before the /_fault rules run, so an injected delay counts as part of
the call, as a client sees it.
"""
import argparse
import importlib.util
import io
import json
import os
import sys
import threading
import time
from urllib.parse import parse_qs

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "..", "tests", "emulator", "moto_ext_server.py")

_trace, _lock = [], threading.Lock()
# Paths that are the emulator's own control surface, not AWS calls.
_CONTROL = ("/_fault", "/_trace", "/_requests", "/moto-api")


class TraceMiddleware:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/_trace":
            with _lock:
                if environ["REQUEST_METHOD"] == "DELETE":
                    _trace.clear()
                out = json.dumps(_trace).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [out]
        if path.startswith(_CONTROL):
            return self.app(environ, start_response)
        t0 = time.monotonic()
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size) if size else b""
        environ["wsgi.input"] = io.BytesIO(body)
        action = ""
        if b"Action=" in body:
            action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
        key = f"{environ['REQUEST_METHOD']} {path} {environ.get('HTTP_X_AMZ_TARGET', '')} {action}"
        try:
            return list(self.app(environ, start_response))
        finally:
            with _lock:
                _trace.append([key, t0, time.monotonic()])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-H", "--host", default="127.0.0.1")
    ap.add_argument("-p", "--port", type=int, default=5055)
    a = ap.parse_args()
    os.environ.setdefault("MOTO_PORT", str(a.port))
    spec = importlib.util.spec_from_file_location("moto_ext_server", SERVER)
    server = importlib.util.module_from_spec(spec)
    sys.modules["moto_ext_server"] = server
    spec.loader.exec_module(server)  # imports the moto_ext package (the patches); its __main__ block does not run
    from werkzeug.serving import run_simple
    from moto.server import MotoRequestHandler

    app = server.moto_ext.make_app()  # the same app the emulator serves: client tokens, faults, request log
    run_simple(a.host, a.port, TraceMiddleware(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
