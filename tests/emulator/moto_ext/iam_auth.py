"""IAM authorization (moto's INITIAL_NO_AUTH_ACTION_COUNT, `POST /moto-api/reset-auth`): check the
SigV4 signature over the request body as it was sent.

AWS signs the payload that was sent: the canonical request's last line is the SHA-256 of the
request body, of the empty string when there is none ("Create a signed AWS API request", step 1,
https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html). moto 5.2.5 signs
`raw_body or data` instead, and both are wrong for our SDK's requests:
- a form body (`application/x-www-form-urlencoded`: EC2, IAM, STS) is consumed by the form parser,
  so `raw_body` is empty and moto re-encodes the parsed form its own way; the Rust SDK encodes
  some characters differently (IAM CreateRole's policy document), and the signature never matches;
- for a REST request without a body (EKS GET and DELETE), `data` is the header dict.
The middleware keeps the body as sent (`environ["secure_eks.body"]`); the check uses it, or the
empty string. The query string is part of the signed path already. Authorization then evaluates
`<service>:<Operation>` as before (on resource `*` for most services).
"""
from botocore.awsrequest import AWSRequest
from moto.core.authorization import ActionAuthenticatorMixin as _Auth
from moto.iam import access_control as _ac

_orig_authenticate = _Auth._authenticate_and_authorize_action


def _authenticate(self, iam_request_cls, resource="*"):
    environ = getattr(getattr(self, "normalized_request", None), "environ", None) or {}
    kept = self.raw_body
    self.raw_body = environ.get("secure_eks.body", kept) or b""
    try:
        return _orig_authenticate(self, iam_request_cls, resource)
    finally:
        self.raw_body = kept


_orig_create_aws_request = _ac.IAMRequestBase._create_aws_request


def _create_aws_request(self):
    req = _orig_create_aws_request(self)
    signed = AWSRequest(method=req.method, url=req.url, data=self._body or b"", headers=req.headers)
    signed.context["timestamp"] = req.context["timestamp"]
    return signed


_Auth._authenticate_and_authorize_action = _authenticate
_ac.IAMRequestBase._create_aws_request = _create_aws_request
