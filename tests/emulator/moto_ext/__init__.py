"""The secure-eks AWS emulator: moto 5.2.5 plus what the provider needs and AWS does.

Importing this package patches moto (EKS extensions, SSM AMI parameters, IAM managed policies,
Logs/KMS fixes) in place; `make_app()` returns the WSGI app with the middleware. One module per
concept; each behaviour that mirrors AWS cites the AWS page it follows. See tests/emulator/README.md.
"""
from . import common  # noqa: F401
from . import eks_routes  # noqa: F401
from . import eks_addons  # noqa: F401
from . import eks_access  # noqa: F401
from . import eks_cluster  # noqa: F401
from . import eks_nodegroups  # noqa: F401
from . import ssm_amis  # noqa: F401
from . import iam_policies  # noqa: F401
from . import iam_auth  # noqa: F401
from . import logs_kms  # noqa: F401
from . import clock  # noqa: F401
from . import ec2_zones  # noqa: F401
from . import ec2_endpoints  # noqa: F401
from . import ec2_nat  # noqa: F401
from . import ec2_deps  # noqa: F401
from . import eks_lifecycle  # noqa: F401  (wraps eks_cluster / eks_nodegroups / eks_addons: import after them)
from . import eks_nodejoin  # noqa: F401
from . import eks_daytwo  # noqa: F401  (wraps eks_lifecycle and eks_addons: import after them)
from . import eks_tokens  # noqa: F401  (wraps the final create_* handlers: import last of the EKS modules)
from . import k8s_hooks  # noqa: F401
from . import sts_identity  # noqa: F401
from .middleware import ClientTokenMiddleware, FaultMiddleware


def make_app():
    """moto's server app with the client-token and fault/request-log middleware."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app = DomainDispatcherApplication(create_backend_app)
    return FaultMiddleware(ClientTokenMiddleware(app))
