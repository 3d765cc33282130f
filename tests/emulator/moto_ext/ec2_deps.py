"""Deletes that AWS refuses while something still depends on the resource.

Sources:
- DeleteSubnet: "You must terminate all running instances in the subnet before you can delete the
  subnet"; any network interface left in it (EKS control-plane ENIs, load balancer ENIs, leaked
  CNI ENIs, endpoint ENIs) gives `DependencyViolation: The subnet '<id>' has dependencies and
  cannot be deleted.` https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSubnet.html
- DeleteSecurityGroup: "If you attempt to delete a security group that is associated with an
  instance or network interface, ... DependencyViolation" (`resource <sg> has a dependent object`).
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSecurityGroup.html
- A group referenced by another group's rule: same DependencyViolation
  (https://docs.aws.amazon.com/vpc/latest/userguide/deleting-security-groups.html).
- DeleteVpc: "You must detach or delete all gateways and resources that are associated with the VPC
  before you can delete it, for example, ... security groups, network ACLs, route tables"
  (`DependencyViolation: The vpc '<id>' has dependencies and cannot be deleted.`)
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteVpc.html
"""
from moto.ec2.exceptions import DependencyViolationError
from moto.ec2.models import EC2Backend


def enis_in_subnet(backend, subnet_id):
    return [e for e in list(backend.enis.values()) if getattr(e.subnet, "id", None) == subnet_id]


def enis_with_group(backend, group_id):
    return [e for e in list(backend.enis.values()) if any(g.id == group_id for g in (e.group_set or []))]


def referencing_groups(backend, group_id):
    """Other security groups with a rule that names `group_id` as its source or destination: "you
    can't delete a security group that is referenced by a rule in another security group"
    (https://docs.aws.amazon.com/vpc/latest/userguide/deleting-security-groups.html)."""
    out = []
    for groups in list(backend.groups.values()):
        for g in list(groups.values()):
            if g.id == group_id:
                continue
            for rule in list(g.ingress_rules) + list(g.egress_rules):
                if (rule.source_group or {}).get("GroupId") == group_id:
                    out.append(g.id)
                    break
    return out


_orig_delete_subnet = EC2Backend.delete_subnet
_orig_delete_sg = EC2Backend.delete_security_group
_orig_delete_vpc = EC2Backend.delete_vpc


def delete_subnet(self, subnet_id):
    if enis_in_subnet(self, subnet_id):
        raise DependencyViolationError(f"The subnet '{subnet_id}' has dependencies and cannot be deleted.")
    return _orig_delete_subnet(self, subnet_id)


def delete_security_group(self, name=None, group_id=None):
    gid = group_id
    if not gid and name:
        g = self.get_security_group_by_name_or_id(name)
        gid = g.id if g else None
    if gid and (enis_with_group(self, gid) or referencing_groups(self, gid)):
        raise DependencyViolationError(f"resource {gid} has a dependent object")
    return _orig_delete_sg(self, name=name, group_id=group_id)


def delete_vpc(self, vpc_id):
    blockers = []
    for g in self.groups.get(vpc_id, {}).values():
        if g.name != "default":
            blockers.append(g.id)
    for e in self.vpc_end_points.values():
        if e.vpc_id == vpc_id and str(e.state).lower() != "deleted":
            blockers.append(e.id)
    for igw in self.internet_gateways.values():
        if igw.vpc is not None and igw.vpc.id == vpc_id:
            blockers.append(igw.id)
    for nat in self.nat_gateways.values():
        if nat.vpc_id == vpc_id and nat.state != "deleted":
            blockers.append(nat.id)
    if blockers:
        raise DependencyViolationError(f"The vpc '{vpc_id}' has dependencies and cannot be deleted.")
    return _orig_delete_vpc(self, vpc_id)


EC2Backend.delete_subnet = delete_subnet
EC2Backend.delete_security_group = delete_security_group
EC2Backend.delete_vpc = delete_vpc
