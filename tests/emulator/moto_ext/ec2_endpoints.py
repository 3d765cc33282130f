"""VPC endpoints: only the services the region offers, private DNS rules, and their lifecycle.

Sources:
- Unknown service: `InvalidServiceName: The Vpc Endpoint Service '<name>' does not exist` (what
  EC2 answers, e.g. eksctl-io/eksctl#3133 for ecr.dkr in eu-south-1);
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcEndpointServices.html
- AWS PrivateLink for the EKS API (`com.amazonaws.<region>.eks`) is not available in
  ap-southeast-5, ap-southeast-7 and mx-central-1 (among others):
  https://docs.aws.amazon.com/eks/latest/userguide/vpc-interface-endpoints.html ("Region availability").
- PrivateDnsEnabled defaults to true for AWS services, and needs the VPC attributes
  enableDnsSupport and enableDnsHostnames:
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpcEndpoint.html,
  https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html
- Private DNS is one hosted zone per VPC: a second private-DNS endpoint for the same service is
  refused, `InvalidParameter: private-dns-enabled cannot be set because there is already a
  conflicting DNS domain for <dns> in the VPC <vpc>` (hashicorp/terraform-provider-aws#17535).
- States: pendingAcceptance | pending | available | deleting | deleted | ...
  (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_VpcEndpoint.html); an interface
  endpoint has one requester-managed ENI per subnet, with the endpoint's security groups
  (https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html).
  Creating an interface endpoint takes a minute or two; deleting one about a minute.
"""
from moto.ec2.exceptions import EC2ClientError, InvalidServiceName
from moto.ec2.models import EC2Backend
from moto.ec2.models.vpcs import VPCBackend

from . import clock

# Regions without the EKS PrivateLink service (see the EKS user guide page above).
EKS_PRIVATELINK_UNAVAILABLE = {"ap-southeast-5", "ap-southeast-7", "mx-central-1"}

# AWS minutes (see module doc).
INTERFACE_CREATE_MIN = 2.0
GATEWAY_CREATE_MIN = 0.5
DELETE_MIN = 1.0

# Test switch (POST /_endpoint_services {"region": r, "remove": ["ecr.dkr"]}): services a test
# makes the region lack, as some regions really do (eu-south-1 once lacked ecr.dkr:
# eksctl-io/eksctl#3133). Cleared by DELETE /_endpoint_services and by POST /moto-api/reset.
HIDDEN = {}


def reset():
    HIDDEN.clear()


_orig_collect = VPCBackend._collect_default_endpoint_services


def _collect(account_id, region):
    services = _orig_collect(account_id, region)
    gone = {f"com.amazonaws.{region}.{s}" for s in HIDDEN.get(region, ())}
    if region in EKS_PRIVATELINK_UNAVAILABLE:
        gone |= {f"com.amazonaws.{region}.eks", f"com.amazonaws.{region}.eks-fips"}
    if gone:
        services = [s for s in services if s["ServiceName"] not in gone]
    return services


VPCBackend._collect_default_endpoint_services = staticmethod(_collect)


def service_details(backend, name):
    """The service's details (merged over its Interface/Gateway entries), or None."""
    found = [s for s in _collect(backend.account_id, backend.region_name) if s["ServiceName"] == name]
    found += [c.to_dict() for c in backend.configurations.values() if c.to_dict()["ServiceName"] == name]
    return found or None


def _private_dns_name(details, endpoint_type):
    for d in details:
        types = {t["ServiceType"] for t in d.get("ServiceType", [])}
        if endpoint_type in types and d.get("PrivateDnsName"):
            return d["PrivateDnsName"]
    return None


def _live(vpce):
    return str(vpce.state).lower() not in ("deleted", "deleting", "failed", "rejected")


_orig_create = EC2Backend.create_vpc_endpoint


def create_vpc_endpoint(self, vpc_id, service_name, endpoint_type, *args, **kwargs):
    details = service_details(self, service_name)
    if details is None:
        raise InvalidServiceName(service_name)
    etype = (endpoint_type or "Gateway").lower()
    vpc = self.get_vpc(vpc_id)
    private_dns = kwargs.get("private_dns_enabled")
    if etype == "interface" and private_dns:
        if not (vpc.enable_dns_support and vpc.enable_dns_hostnames):
            raise EC2ClientError(
                "InvalidParameter",
                "Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes "
                f"set to true for {vpc_id}",
            )
        dns = _private_dns_name(details, "Interface") or service_name
        for other in self.vpc_end_points.values():
            if (other.vpc_id == vpc_id and other.service_name == service_name and _live(other)
                    and str(other.vpc_endpoint_type or "").lower() == "interface" and other.private_dns_enabled):
                raise EC2ClientError(
                    "InvalidParameter",
                    f"private-dns-enabled cannot be set because there is already a conflicting DNS domain for "
                    f"{dns} in the VPC {vpc_id}",
                )
    vpce = _orig_create(self, vpc_id, service_name, endpoint_type, *args, **kwargs)
    if etype != "interface":
        vpce.private_dns_enabled = False
    # The endpoint's ENIs are requester-managed and carry its security groups.
    sgs = [g for g in (self.get_security_group_from_id(i) for i in (kwargs.get("security_group_ids") or [])) if g]
    for eni_id in vpce.network_interface_ids or []:
        eni = self.enis.get(eni_id)
        if eni is not None:
            eni._group_set = list(sgs)
            eni.description = f"VPC Endpoint Interface {vpce.id}"
            eni.requester_managed = True
            eni.interface_type = "vpc_endpoint"
    vpce.state = "pending"

    def available():
        if vpce.state == "pending":
            vpce.state = "available"

    clock.after(INTERFACE_CREATE_MIN if etype == "interface" else GATEWAY_CREATE_MIN, available)
    return vpce


def delete_vpc_endpoints(self, vpce_ids=None):
    for vpce_id in vpce_ids or []:
        vpce = self.vpc_end_points.get(vpce_id)
        if vpce is None or not _live(vpce) and vpce.state != "failed":
            continue
        vpce.state = "deleting"

        def finish(vpce=vpce):
            # moto's delete fails when a route table of a gateway endpoint is already gone: do it here.
            if vpce.id not in self.vpc_end_points:
                return
            for eni_id in vpce.network_interface_ids or []:
                self.enis.pop(eni_id, None)
            for rt in vpce.route_table_ids or []:
                try:
                    self.delete_route(rt, vpce.destination_prefix_list_id)
                except Exception:
                    pass
            vpce.state = "deleted"
            # AWS stops listing a deleted endpoint shortly after; keep "deleted" for a while.
            clock.after(DELETE_MIN, lambda: self.vpc_end_points.pop(vpce.id, None))

        clock.after(DELETE_MIN, finish)


EC2Backend.create_vpc_endpoint = create_vpc_endpoint
EC2Backend.delete_vpc_endpoints = delete_vpc_endpoints
