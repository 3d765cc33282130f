"""What Kubernetes and GuardDuty leave in a real cluster's VPC, made on demand by tests.

POST /_k8s/loadbalancer {"cluster": "<name>", "region": "us-east-1"[, "account": "..."]}
  What the AWS Load Balancer Controller makes for a `Service type=LoadBalancer`: a security group,
  a network load balancer in the cluster subnets (with its ENIs, which block subnet deletes) and a
  target group, all tagged `elbv2.k8s.aws/cluster=<name>` (plus `service.k8s.aws/stack` and
  `service.k8s.aws/resource`) (kubernetes-sigs/aws-load-balancer-controller
  pkg/deploy/tracking/provider.go; https://kubernetes-sigs.github.io/aws-load-balancer-controller/).
POST /_k8s/guardduty {"cluster": "<name>", "region": ...}
  What GuardDuty Runtime Monitoring's automated agent makes per VPC: an interface endpoint for
  `com.amazonaws.<region>.guardduty-data` with private DNS, and its security group admitting 443
  from the VPC, both tagged `GuardDutyManaged=true`
  (https://docs.aws.amazon.com/guardduty/latest/ug/runtime-monitoring.html,
  https://docs.aws.amazon.com/guardduty/latest/ug/managing-gdu-agent-eks-automatically.html).
GET /_k8s/nodegroup?cluster=<c>&nodegroup=<n>&region=<r>
  Why the emulator failed a node group (its NodeCreationFailure reasons), for test messages.
GET /_k8s/coredns?cluster=<c>&region=<r>
  Why coredns is DEGRADED (null when it isn't).
Each answers JSON; an unknown cluster answers 404.
"""
import json
import uuid
from urllib.parse import parse_qs

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ec2.models import ec2_backends
from moto.ec2.utils import random_private_ip
from moto.eks.models import eks_backends
from moto.elbv2.models import elbv2_backends

from .common import ext_of


def _ctx(q):
    account = q.get("account") or DEFAULT_ACCOUNT_ID
    region = q.get("region") or "us-east-1"
    cluster = eks_backends[account][region].clusters.get(q.get("cluster") or "")
    return account, region, cluster


def _subnets_vpc(ec2, cluster):
    subnets = list((cluster.resources_vpc_config or {}).get("subnetIds") or [])
    vpc_id = (cluster.resources_vpc_config or {}).get("vpcId") or ec2.get_subnet(subnets[0]).vpc_id
    return subnets, vpc_id


class ControllerError(Exception):
    """What the controller logs when it can't reconcile (the hook answers 409 with it)."""


def _node_security_group(ec2, cluster):
    """The SG the controller adds its ingress rule to, per node ENI: the only SG, or exactly one
    tagged `kubernetes.io/cluster/<name>` (aws-load-balancer-controller#2902: `expect exactly one
    securityGroup tagged with kubernetes.io/cluster/<name> for eni <eni>, got: [...]`)."""
    key = f"kubernetes.io/cluster/{cluster.name}"
    chosen = set()
    for ng in cluster.nodegroups.values():
        for eni_id in getattr(ng, "_enis", []):
            eni = ec2.enis.get(eni_id)
            if eni is None:
                continue
            groups = list(eni.group_set or [])
            if len(groups) == 1:
                chosen.add(groups[0].id)
                continue
            tagged = [g.id for g in groups if key in {t.get("key", t.get("Key")) for t in g.get_tags()}]
            if len(tagged) != 1:
                raise ControllerError(
                    f"expect exactly one securityGroup tagged with {key} for eni {eni_id}, got: {sorted(tagged)} "
                    f"(sgs: {sorted(g.id for g in groups)})"
                )
            chosen.add(tagged[0])
    return sorted(chosen)


def make_load_balancer(account, region, cluster):
    ec2 = ec2_backends[account][region]
    node_sgs = _node_security_group(ec2, cluster)
    subnets, vpc_id = _subnets_vpc(ec2, cluster)
    suffix = uuid.uuid4().hex[:8]
    tags = {"elbv2.k8s.aws/cluster": cluster.name, "service.k8s.aws/stack": "default/web",
            "service.k8s.aws/resource": "LoadBalancer"}
    sg = ec2.create_security_group(f"k8s-default-web-{suffix}", "[k8s] Managed SecurityGroup for LoadBalancer",
                                   vpc_id, tags=tags)
    elbv2 = elbv2_backends[account][region]
    lb = elbv2.create_load_balancer(
        name=f"k8s-default-web-{suffix}", security_groups=[sg.id], subnet_ids=subnets, scheme="internet-facing",
        loadbalancer_type="network", tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )
    tg = elbv2.create_target_group(name=f"k8s-default-web-{suffix}", protocol="TCP", port=80, vpc_id=vpc_id,
                                   target_type="ip")
    elbv2.add_tags([tg.arn], [{"Key": k, "Value": v} for k, v in tags.items()])
    enis = []
    for sid in subnets:
        subnet = ec2.get_subnet(sid)
        eni = ec2.create_network_interface(subnet, random_private_ip(subnet.cidr_block), group_ids=[sg.id],
                                           description=f"ELB {lb.arn.split(':loadbalancer/')[-1]}")
        eni.requester_managed = True
        enis.append(eni.id)
    lb._k8s_enis = enis
    for gid in node_sgs:  # the controller lets the load balancer's SG reach the nodes
        ec2.authorize_security_group_ingress(
            group_name_or_id=gid, ip_protocol="tcp", from_port="0", to_port="65535", ip_ranges=[],
            source_groups=[{"GroupId": sg.id}], prefix_list_ids=[], vpc_id=vpc_id,
        )
    return {"loadBalancerArn": lb.arn, "targetGroupArn": tg.arn, "securityGroupId": sg.id, "networkInterfaceIds": enis}


def make_guardduty(account, region, cluster):
    ec2 = ec2_backends[account][region]
    subnets, vpc_id = _subnets_vpc(ec2, cluster)
    vpc = ec2.get_vpc(vpc_id)
    tags = {"GuardDutyManaged": "true"}
    sg = ec2.create_security_group(f"GuardDutyManagedSecurityGroup-{vpc_id}",
                                   "Associated with VPC-vpc and tagged as GuardDutyManaged", vpc_id, tags=tags)
    ec2.authorize_security_group_ingress(
        group_name_or_id=sg.id, ip_protocol="tcp", from_port="443", to_port="443",
        ip_ranges=[{"CidrIp": vpc.cidr_block}], source_groups=[], prefix_list_ids=[], vpc_id=vpc_id,
    )
    private_dns = bool(vpc.enable_dns_support and vpc.enable_dns_hostnames)
    vpce = ec2.create_vpc_endpoint(
        vpc_id, f"com.amazonaws.{region}.guardduty-data", "Interface", None, [], subnet_ids=subnets,
        security_group_ids=[sg.id], tags=tags, private_dns_enabled=private_dns,
    )
    return {"vpcEndpointId": vpce.id, "securityGroupId": sg.id}


# ELB ENIs go with the load balancer.
from moto.elbv2.models import ELBv2Backend  # noqa: E402

_orig_delete_lb = ELBv2Backend.delete_load_balancer


def _delete_load_balancer(self, arn):
    lb = self.load_balancers.get(arn)
    if lb is not None:
        ec2 = ec2_backends[self.account_id][self.region_name]
        for eni_id in getattr(lb, "_k8s_enis", []):
            ec2.enis.pop(eni_id, None)
    return _orig_delete_lb(self, arn)


ELBv2Backend.delete_load_balancer = _delete_load_balancer


def handle(environ, start_response):
    """WSGI handler for /_k8s/*."""
    path = environ.get("PATH_INFO", "")
    q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    if environ["REQUEST_METHOD"] == "POST":
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size) if size else b""
        q.update(json.loads(body or b"{}"))
    account, region, cluster = _ctx(q)
    status, out = "200 OK", None
    if cluster is None:
        status, out = "404 Not Found", {"message": f"no cluster {q.get('cluster')!r} in {region}"}
    elif path == "/_k8s/loadbalancer":
        try:
            out = make_load_balancer(account, region, cluster)
        except ControllerError as e:
            status, out = "409 Conflict", {"message": str(e)}
    elif path == "/_k8s/guardduty":
        out = make_guardduty(account, region, cluster)
    elif path == "/_k8s/nodegroup":
        ng = cluster.nodegroups.get(q.get("nodegroup") or "")
        out = {"status": ng.status, "reasons": getattr(ng, "_join_reasons", [])} if ng else None
        if ng is None:
            status = "404 Not Found"
    elif path == "/_k8s/coredns":
        from .eks_nodejoin import why_pods_have_no_ip

        addons = ext_of(eks_backends[account][region])["addons"].get(cluster.name, {})
        out = {"reason": why_pods_have_no_ip(account, region, cluster, addons)}
    else:
        status, out = "404 Not Found", {"message": f"unknown hook {path}"}
    data = json.dumps(out, default=str).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
