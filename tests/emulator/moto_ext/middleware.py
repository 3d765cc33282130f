"""WSGI middleware: fault/latency injection (/_fault), the request log (/_requests) and EC2
client-token idempotency."""
# POST /_fault  {"match": "<regex over 'METHOD PATH TARGET ACTION'>", "status": 429|500|503|0,
#                "code": "ThrottlingException", "count": N, "delay_ms": 0, "after": false}
# "after": true lets the request take effect first and then answers the error instead of its
# response (a 5xx or a lost connection after the commit).
# DELETE /_fault clears all rules. status 0 = latency only (request is then passed through).
# GET /_requests: every AWS request since the last DELETE /_requests, in arrival order, as
# [key, status, service] (key: the same 'METHOD PATH TARGET ACTION' string the rules match; status:
# the HTTP status answered, injected faults included; service: from the SigV4 credential scope).
# DELETE /_requests clears the log.
import io, json, re, threading, time
from urllib.parse import parse_qs

from . import clock, ec2_endpoints, ec2_zones, k8s_hooks


def _json(start_response, obj, status="200 OK"):
    out = json.dumps(obj).encode()
    start_response(status, [("Content-Type", "application/json")])
    return [out]


def _body(environ):
    size = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(size) if size else b""


def _emulator_api(environ, start_response, path):
    """/_time, /_k8s/*, /_endpoint_services (see README)."""
    method = environ["REQUEST_METHOD"]
    if path == "/_time":
        if method == "POST":
            try:
                clock.set_scale(json.loads(_body(environ) or b"{}").get("scale", clock.scale()))
            except (ValueError, TypeError) as e:
                return _json(start_response, {"message": str(e)}, "400 Bad Request")
        return _json(start_response, {"scale": clock.scale(), "pending": clock.pending()})
    if path == "/_endpoint_services":
        with _lock:
            if method == "DELETE":
                ec2_endpoints.HIDDEN.clear()
            elif method == "POST":
                r = json.loads(_body(environ) or b"{}")
                ec2_endpoints.HIDDEN.setdefault(r.get("region", "us-east-1"), set()).update(r.get("remove", []))
            out = {k: sorted(v) for k, v in ec2_endpoints.HIDDEN.items()}
        return _json(start_response, out)
    clock.tick()
    return k8s_hooks.handle(environ, start_response)

_rules, _lock = [], threading.Lock()
_requests = []


class ClientTokenMiddleware:
    """EC2 idempotency, which moto lacks: a call with a ClientToken seen before (same region and
    action) answers the first call's response instead of acting again, as AWS does. Cleared by
    POST /moto-api/reset with the rest of the state."""

    def __init__(self, app):
        self.app = app
        self.seen = {}

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/moto-api/reset"):
            with _lock:
                self.seen.clear()
            return self.app(environ, start_response)
        auth = environ.get("HTTP_AUTHORIZATION", "")
        scope = auth.split("Credential=")[1].split("/") if "Credential=" in auth else []
        if len(scope) < 4 or scope[3] != "ec2" or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size) if size else b""
        environ["wsgi.input"] = io.BytesIO(body)
        params = parse_qs(body.decode("utf-8", "replace"))
        token = params.get("ClientToken", [""])[0]
        if not token:
            return self.app(environ, start_response)
        key = (scope[2], params.get("Action", [""])[0], token)
        with _lock:
            hit = self.seen.get(key)
        if hit is not None:
            start_response(hit[0], hit[1])
            return [hit[2]]
        got = {}

        def capture(status, headers, *exc):
            got["status"], got["headers"] = status, headers
            return lambda data: None

        out = b"".join(self.app(environ, capture))
        if got.get("status", "").startswith("200"):
            with _lock:
                self.seen[key] = (got["status"], got["headers"], out)
        start_response(got["status"], got["headers"])
        return [out]


class FaultMiddleware:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/_fault":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(size) if size else b""
            with _lock:
                if environ["REQUEST_METHOD"] == "DELETE":
                    _rules.clear()
                else:
                    r = json.loads(body or b"{}")
                    r.setdefault("count", 1)
                    _rules.append(r)
                out = json.dumps(_rules).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [out]
        if path == "/_time" or path == "/_endpoint_services" or path.startswith("/_k8s/"):
            return _emulator_api(environ, start_response, path)
        if path.startswith("/moto-api/reset"):
            clock.reset()
            ec2_zones.reset()
            ec2_endpoints.reset()
        else:
            clock.tick()
        if path == "/_requests":
            with _lock:
                if environ["REQUEST_METHOD"] == "DELETE":
                    _requests.clear()
                out = json.dumps(_requests).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [out]
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size) if size else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["secure_eks.body"] = body  # the body as sent, for IAM signature checks (iam_auth)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        action = ""
        if b"Action=" in body:
            action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
        key = f"{environ['REQUEST_METHOD']} {path} {target} {action}"
        if path.startswith("/moto-api"):
            return self._serve(environ, start_response, key, target, action)
        auth = environ.get("HTTP_AUTHORIZATION", "")
        entry = [key, 0, auth.split("Credential=")[1].split("/")[3] if auth.count("/") >= 4 and "Credential=" in auth else ""]
        with _lock:
            _requests.append(entry)

        def logged_start_response(status, headers, *exc):
            entry[1] = int(status.split(" ", 1)[0])
            return start_response(status, headers, *exc)

        return self._serve(environ, logged_start_response, key, target, action)

    def _serve(self, environ, start_response, key, target, action):
        hit = None
        with _lock:
            for r in _rules:
                if r["count"] != 0 and re.search(r.get("match", "."), key):
                    r["count"] -= 1
                    hit = dict(r)
                    break
        if hit is None:
            return self.app(environ, start_response)
        if hit.get("delay_ms"):
            time.sleep(hit["delay_ms"] / 1000.0)
        status = hit.get("status", 0)
        if not status:
            return self.app(environ, start_response)
        if hit.get("after"):
            # The request takes effect, then its answer is lost: the error replaces the response
            # (what a 5xx or a dropped connection after the commit looks like to a client).
            for _ in self.app(environ, lambda *a, **k: (lambda data: None)):
                pass
        code = hit.get("code", "ThrottlingException")
        msg = hit.get("message", "injected fault")
        auth = environ.get("HTTP_AUTHORIZATION", "")
        svc = auth.split("Credential=")[1].split("/")[3] if "Credential=" in auth else ""
        if target:  # awsJson (ssm, kms, logs)
            ctype, out, extra = "application/x-amz-json-1.1", json.dumps({"__type": code, "message": msg}), []
        elif action and svc == "ec2":
            ctype, extra = "text/xml", []
            out = f"<Response><Errors><Error><Code>{code}</Code><Message>{msg}</Message></Error></Errors><RequestID>x</RequestID></Response>"
        elif action:  # awsQuery (iam, sts)
            ctype, extra = "text/xml", []
            out = f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{msg}</Message></Error><RequestId>x</RequestId></ErrorResponse>"
        else:  # restJson (eks)
            ctype, out, extra = "application/json", json.dumps({"message": msg}), [("x-amzn-ErrorType", code)]
        start_response(f"{status} Injected", [("Content-Type", ctype)] + extra)
        return [out.encode()]


