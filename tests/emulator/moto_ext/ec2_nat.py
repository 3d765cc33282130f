"""NAT gateways: pending -> available, deleting -> deleted, and the ENI they hold meanwhile.

Source: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_NatGateway.html (State:
pending | failed | available | deleting | deleted; "the NAT gateway is ... pending while being
created"; a deleted one stays visible as `deleted` for a while).
https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-working-with.html: creation takes a
few minutes; its network interface is released when the gateway is deleted.
"""
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import EC2Backend

from . import clock

CREATE_MIN = 2.0
DELETE_MIN = 1.0

_orig_create = EC2Backend.create_nat_gateway
_orig_delete = EC2Backend.delete_nat_gateway


def create_nat_gateway(self, *args, **kwargs):
    nat = _orig_create(self, *args, **kwargs)
    nat.state = "pending"

    def available():
        if nat.state == "pending":
            nat.state = "available"

    clock.after(CREATE_MIN, available)
    return nat


def delete_nat_gateway(self, nat_gateway_id):
    nat = self.nat_gateways.get(nat_gateway_id)
    if nat is None or nat.state in ("deleting", "deleted"):
        return _orig_delete(self, nat_gateway_id) if nat is None else nat
    nat.state = "deleting"

    def deleted():
        nat.state = "deleted"
        eni = getattr(nat, "_eni", None)
        if eni is not None:
            for addr in self.addresses if hasattr(self, "addresses") else []:
                if getattr(addr, "eni", None) is eni:
                    addr.eni = None
                    addr.association_id = None
            self.enis.pop(eni.id, None)

    clock.after(DELETE_MIN, deleted)
    return nat


_orig_release = EC2Backend.release_address


def release_address(self, address=None, allocation_id=None):
    # An Elastic IP held by a NAT gateway that is not yet deleted can't be released.
    # https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-working-with.html#nat-gateway-deleting
    for nat in self.nat_gateways.values():
        if nat.state == "deleted":
            continue
        for a in nat.address_set:
            if (allocation_id and a.get("allocationId") == allocation_id) or (address and a.get("publicIp") == address):
                raise EC2ClientError("InvalidIPAddress.InUse", f"Address {address or allocation_id} is in use.")
    return _orig_release(self, address=address, allocation_id=allocation_id)


EC2Backend.release_address = release_address
EC2Backend.create_nat_gateway = create_nat_gateway
EC2Backend.delete_nat_gateway = delete_nat_gateway
