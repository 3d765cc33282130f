"""EC2 Availability Zones as the region really has them, and subnets only in those.

Sources:
- AZ IDs per region: https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html
  (us-west-1 has two AZ IDs, usw1-az1 and usw1-az3; ca-central-1 has cac1-az1, -az2, -az4;
  ap-northeast-1 has apne1-az1, -az2, -az4).
- Zone names are mapped to AZ IDs per account in the oldest regions
  (https://docs.aws.amazon.com/global-infrastructure/latest/regions/az-ids.html); the names below
  are the ones real accounts list (moto's mapping, and for us-west-1 the a/c pair a real account
  returns), so `<region>a/b/c` is NOT a safe default in us-west-1, ca-central-1 or ap-northeast-1.
- Zone fields (ZoneType availability-zone | local-zone | wavelength-zone, OptInStatus
  opt-in-not-required | opted-in | not-opted-in, GroupName, NetworkBorderGroup, ParentZoneName):
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AvailabilityZone.html
- Local and Wavelength Zones must be opted in (ModifyAvailabilityZoneGroup) before use, and
  DescribeAvailabilityZones lists zones that are not opted in only with AllAvailabilityZones:
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAvailabilityZones.html,
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyAvailabilityZoneGroup.html
- CreateSubnet in a zone the region lacks: `InvalidParameterValue: Value (<az>) for parameter
  availabilityZone is invalid. Subnets can currently only be created in the following availability
  zones: ...` (the EC2 error text).
"""
from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend, Zone
from moto.ec2.responses.availability_zones_and_regions import AvailabilityZonesAndRegions
from moto.ec2.responses.subnets import Subnets

# region -> [(name, zone id)] of the regular AZs (opt-in-not-required).
AZS = {
    "us-east-1": [("us-east-1a", "use1-az6"), ("us-east-1b", "use1-az1"), ("us-east-1c", "use1-az2"),
                  ("us-east-1d", "use1-az4"), ("us-east-1e", "use1-az3"), ("us-east-1f", "use1-az5")],
    "us-west-1": [("us-west-1a", "usw1-az3"), ("us-west-1c", "usw1-az1")],
    "us-west-2": [("us-west-2a", "usw2-az2"), ("us-west-2b", "usw2-az1"), ("us-west-2c", "usw2-az3"),
                  ("us-west-2d", "usw2-az4")],
    "eu-west-1": [("eu-west-1a", "euw1-az3"), ("eu-west-1b", "euw1-az1"), ("eu-west-1c", "euw1-az2")],
    "ca-central-1": [("ca-central-1a", "cac1-az1"), ("ca-central-1b", "cac1-az2"), ("ca-central-1d", "cac1-az4")],
    "ap-northeast-1": [("ap-northeast-1a", "apne1-az4"), ("ap-northeast-1c", "apne1-az1"),
                       ("ap-northeast-1d", "apne1-az2")],
}
# region -> [(name, zone id, zone type, group name, parent zone)] that need an opt-in.
# Local Zones: https://aws.amazon.com/about-aws/global-infrastructure/localzones/locations/ ;
# Wavelength Zones: https://docs.aws.amazon.com/wavelength/latest/developerguide/available-wavelength-zones.html
OPT_IN_ZONES = {
    "us-east-1": [
        ("us-east-1-bos-1a", "use1-bos1-az1", "local-zone", "us-east-1-bos-1", "us-east-1a"),
        ("us-east-1-wl1-bos-wlz-1", "use1-wl1-bos-wlz1", "wavelength-zone", "us-east-1-wl1", "us-east-1a"),
    ],
    "us-west-2": [
        ("us-west-2-lax-1a", "usw2-lax1-az1", "local-zone", "us-west-2-lax-1", "us-west-2a"),
        ("us-west-2-lax-1b", "usw2-lax1-az2", "local-zone", "us-west-2-lax-1", "us-west-2a"),
        ("us-west-2-wl1-sea-wlz-1", "usw2-wl1-sea-wlz1", "wavelength-zone", "us-west-2-wl1", "us-west-2a"),
    ],
    "ap-northeast-1": [
        ("ap-northeast-1-tpe-1a", "apne1-tpe1-az1", "local-zone", "ap-northeast-1-tpe-1", "ap-northeast-1a"),
        ("ap-northeast-1-wl1-nrt-wlz-1", "apne1-wl1-nrt-wlz1", "wavelength-zone", "ap-northeast-1-wl1", "ap-northeast-1a"),
    ],
}

# (account, region) -> set of opted-in group names; cleared by POST /moto-api/reset.
_opted_in = {}


def reset():
    _opted_in.clear()


# moto's own zone table (used by its subnet code and endpoint services) gets the real AZs and the
# opt-in zones, so that a subnet in an opted-in Local Zone can exist.
for _region, _zs in AZS.items():
    RegionsAndZonesBackend.zones[_region] = [Zone(region_name=_region, name=n, zone_id=i) for n, i in _zs]
for _region, _zs in OPT_IN_ZONES.items():
    RegionsAndZonesBackend.zones.setdefault(_region, [])
    for _n, _i, _t, _g, _p in _zs:
        RegionsAndZonesBackend.zones[_region].append(Zone(region_name=_region, name=_n, zone_id=_i, zone_type=_t))


def zones(account, region, include_all=False):
    """The region's zones as DescribeAvailabilityZones answers them."""
    out = []
    azs = AZS.get(region) or [(z.name, z.zone_id) for z in RegionsAndZonesBackend.zones.get(region, [])
                              if z.zone_type == "availability-zone"]
    for name, zid in azs:
        out.append({
            "ZoneName": name, "ZoneId": zid, "ZoneType": "availability-zone", "State": "available",
            "OptInStatus": "opt-in-not-required", "RegionName": region, "GroupName": region,
            "NetworkBorderGroup": region, "Messages": [],
        })
    opted = _opted_in.get((account, region), set())
    for name, zid, typ, group, parent in OPT_IN_ZONES.get(region, []):
        status = "opted-in" if group in opted else "not-opted-in"
        if status == "not-opted-in" and not include_all:
            continue
        parent_id = dict(azs).get(parent)
        out.append({
            "ZoneName": name, "ZoneId": zid, "ZoneType": typ, "State": "available", "OptInStatus": status,
            "RegionName": region, "GroupName": group, "NetworkBorderGroup": group, "Messages": [],
            "ParentZoneName": parent, "ParentZoneId": parent_id,
        })
    return out


def usable_zone_names(account, region):
    return [z["ZoneName"] for z in zones(account, region) if z["OptInStatus"] != "not-opted-in"]


_FILTER_KEYS = {
    "zone-name": "ZoneName", "zone-id": "ZoneId", "zone-type": "ZoneType", "state": "State",
    "opt-in-status": "OptInStatus", "region-name": "RegionName", "group-name": "GroupName",
    "network-border-group": "NetworkBorderGroup",
}


def describe_availability_zones(self):
    include_all = str(self._get_param("AllAvailabilityZones") or "").lower() == "true"
    names = self._get_param("ZoneNames", []) or []
    ids = self._get_param("ZoneIds", []) or []
    filters = self._filters_from_querystring()
    out = zones(self.current_account, self.region, include_all or bool(names) or bool(ids))
    known = {z["ZoneName"] for z in out} | {z["ZoneId"] for z in out}
    for n in list(names) + list(ids):
        if n not in known:
            raise EC2ClientError("InvalidParameterValue", f"Invalid availability zone: [{n}]")
    if names or ids:
        out = [z for z in out if z["ZoneName"] in names or z["ZoneId"] in ids]
    for key, values in (filters or {}).items():
        field = _FILTER_KEYS.get(key)
        if field:
            out = [z for z in out if z.get(field) in values]
    return ActionResult({"AvailabilityZones": out})


def modify_availability_zone_group(self):
    group = self._get_param("GroupName")
    status = self._get_param("OptInStatus")
    groups = {g for _, _, _, g, _ in OPT_IN_ZONES.get(self.region, [])}
    if group not in groups:
        raise EC2ClientError("InvalidParameterValue", f"The zone group '{group}' does not exist in {self.region}")
    opted = _opted_in.setdefault((self.current_account, self.region), set())
    if status == "opted-in":
        opted.add(group)
    else:
        opted.discard(group)
    return ActionResult({"Return": True})


_orig_create_subnet = Subnets.create_subnet


def create_subnet(self):
    az = self._get_param("AvailabilityZone")
    az_id = self._get_param("AvailabilityZoneId")
    usable = usable_zone_names(self.current_account, self.region)
    if az_id and not az:
        by_id = {z["ZoneId"]: z["ZoneName"] for z in zones(self.current_account, self.region)}
        if az_id not in by_id:
            raise EC2ClientError(
                "InvalidParameterValue",
                f"Value ({az_id}) for parameter availabilityZoneId is invalid. Subnets can currently only be "
                f"created in the following availability zones: {', '.join(usable)}.",
            )
        az = by_id[az_id]
    if az and az not in usable:
        raise EC2ClientError(
            "InvalidParameterValue",
            f"Value ({az}) for parameter availabilityZone is invalid. Subnets can currently only be created "
            f"in the following availability zones: {', '.join(usable)}.",
        )
    if not az and not az_id and usable:
        # EC2 picks a zone of the region (moto picked us-east-1a in every region).
        self.querystring["AvailabilityZone"] = [usable[0]]
    return _orig_create_subnet(self)


AvailabilityZonesAndRegions.describe_availability_zones = describe_availability_zones
AvailabilityZonesAndRegions.modify_availability_zone_group = modify_availability_zone_group
Subnets.create_subnet = create_subnet
