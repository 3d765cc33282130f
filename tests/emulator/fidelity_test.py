"""The emulator refuses what AWS refuses and behaves over time like AWS (issue #12).

One test per behaviour; each behaviour's AWS source is cited where it is implemented
(tests/emulator/moto_ext/*.py) and listed in tests/emulator/README.md. Run with the emulator venv:

    PY=$(scripts/install-emulator.sh | tail -n1)
    "$PY" -m pytest -q tests/emulator/fidelity_test.py

The module starts its own server at time scale 0 (every transition due on the next request);
tests about time set a small scale with POST /_time and set it back.
"""

import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = Path(__file__).resolve().parent
SERVER = HERE / "moto_ext_server.py"
ACCOUNT = "123456789012"
R = "us-east-1"


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _http(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path_factory.mktemp("emulator") / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), "-H", "127.0.0.1", "-p", str(port)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        env=dict(os.environ, SECURE_EKS_EMULATOR_TIME_SCALE="0"),
    )
    t0 = time.monotonic()
    try:
        while True:
            assert proc.poll() is None, f"emulator exited with {proc.returncode}; see {log.name}"
            assert time.monotonic() - t0 < 60, "emulator did not answer within 60 s"
            try:
                if _http(url + "/_time")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(autouse=True)
def clean(endpoint):
    _http(endpoint + "/_fault", "DELETE")
    _http(endpoint + "/moto-api/reset", "POST")
    _http(endpoint + "/_time", "POST", {"scale": 0})
    yield
    _http(endpoint + "/_time", "POST", {"scale": 0})


@pytest.fixture
def client(endpoint):
    def make(service, region=R):
        return boto3.client(
            service, endpoint_url=endpoint, region_name=region,
            aws_access_key_id="testing", aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )
    return make


def _code(exc_info):
    return exc_info.value.response["Error"]["Code"]


def _msg(exc_info):
    return exc_info.value.response["Error"]["Message"]


def _wait(fn, want, timeout=10.0):
    """Poll fn() until it returns `want`; return the states seen (in order, deduplicated)."""
    seen, t0 = [], time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = fn()
        if not seen or seen[-1] != v:
            seen.append(v)
        if v == want:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"never reached {want}: {seen}")


# ------------------------------------------------------------------ network helpers
def _role(client, name, policies):
    iam = client("iam")
    try:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    for p in policies:
        iam.attach_role_policy(RoleName=name, PolicyArn=f"arn:aws:iam::aws:policy/{p}")
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


NODE_POLICIES = ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly"]
SERVICES = ["ec2", "ecr.api", "ecr.dkr", "sts", "eks"]


def _network(client, region=R, private=True, endpoints=SERVICES, s3=True, nat=False, sg_443=True, dns=True):
    """A VPC with two subnets in two AZs sharing one route table; optionally the private-cluster
    endpoints (interface, private DNS, SG admitting 443 from the VPC), the S3 gateway endpoint and a NAT."""
    ec2 = client("ec2", region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    if dns:
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    azs = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
               for i, az in enumerate(azs)]
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    for s in subnets:
        ec2.associate_route_table(RouteTableId=rt, SubnetId=s)
    sg = ec2.create_security_group(GroupName="endpoints", Description="endpoints", VpcId=vpc)["GroupId"]
    if sg_443:
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
    ids = {}
    for svc in endpoints if private else []:
        ids[svc] = ec2.create_vpc_endpoint(
            VpcId=vpc, ServiceName=f"com.amazonaws.{region}.{svc}", VpcEndpointType="Interface",
            SubnetIds=subnets, SecurityGroupIds=[sg], PrivateDnsEnabled=True,
        )["VpcEndpoint"]["VpcEndpointId"]
    if s3:
        ids["s3"] = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{region}.s3",
                                            VpcEndpointType="Gateway", RouteTableIds=[rt])["VpcEndpoint"]["VpcEndpointId"]
    if nat:
        pub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.100.0/24", AvailabilityZone=azs[0])["Subnet"]["SubnetId"]
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        natid = ec2.create_nat_gateway(SubnetId=pub, AllocationId=eip)["NatGateway"]["NatGatewayId"]
        ec2.describe_nat_gateways(NatGatewayIds=[natid])  # time scale 0: available now
        ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=natid)
    return {"vpc": vpc, "subnets": subnets, "rt": rt, "sg": sg, "endpoints": ids}


def _cluster(client, net, name="c1", version="1.34", region=R):
    eks = client("eks", region)
    eks.create_cluster(
        name=name, version=version, roleArn=_role(client, f"{name}-cluster", ["AmazonEKSClusterPolicy"]),
        resourcesVpcConfig={"subnetIds": net["subnets"], "endpointPublicAccess": False, "endpointPrivateAccess": True},
    )
    assert eks.describe_cluster(name=name)["cluster"]["status"] == "ACTIVE"  # time scale 0
    return eks


def _nodegroup(client, eks, net, cluster="c1", name="ng", role=None, **kw):
    kw.setdefault("amiType", "AL2023_x86_64_STANDARD")
    kw.setdefault("instanceTypes", ["m5.large"])
    eks.create_nodegroup(
        clusterName=cluster, nodegroupName=name, subnets=net["subnets"],
        nodeRole=role or _role(client, f"{cluster}-{name[:20]}-node", NODE_POLICIES), **kw,
    )
    return eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]


# ------------------------------------------------------------------ validation: zones
@pytest.mark.parametrize("region,names", [
    ("us-east-1", ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"]),
    ("us-west-1", ["us-west-1a", "us-west-1c"]),
    ("us-west-2", ["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"]),
    ("eu-west-1", ["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
    ("ca-central-1", ["ca-central-1a", "ca-central-1b", "ca-central-1d"]),
    ("ap-northeast-1", ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]),
])
def test_availability_zones_are_the_regions_real_ones(client, region, names):
    zones = client("ec2", region).describe_availability_zones()["AvailabilityZones"]
    assert [z["ZoneName"] for z in zones] == names
    assert {(z["ZoneType"], z["OptInStatus"], z["State"]) for z in zones} == {("availability-zone", "opt-in-not-required", "available")}


def test_local_and_wavelength_zones_are_opt_in_never_default(client):
    ec2 = client("ec2", "us-west-2")
    default = ec2.describe_availability_zones()["AvailabilityZones"]
    assert all(z["ZoneType"] == "availability-zone" for z in default)
    every = ec2.describe_availability_zones(AllAvailabilityZones=True)["AvailabilityZones"]
    extra = {z["ZoneName"]: z for z in every if z["ZoneType"] != "availability-zone"}
    assert {"us-west-2-lax-1a", "us-west-2-wl1-sea-wlz-1"} <= set(extra)
    assert {z["OptInStatus"] for z in extra.values()} == {"not-opted-in"}
    assert extra["us-west-2-wl1-sea-wlz-1"]["ZoneType"] == "wavelength-zone"
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    with pytest.raises(ClientError) as e:
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone="us-west-2-lax-1a")
    assert _code(e) == "InvalidParameterValue"
    ec2.modify_availability_zone_group(GroupName="us-west-2-lax-1", OptInStatus="opted-in")
    opted = [z for z in ec2.describe_availability_zones()["AvailabilityZones"] if z["ZoneType"] == "local-zone"]
    assert {z["OptInStatus"] for z in opted} == {"opted-in"}  # now listed by default: callers must filter
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone="us-west-2-lax-1a")


@pytest.mark.parametrize("region,az", [("us-west-1", "us-west-1b"), ("ca-central-1", "ca-central-1c"),
                                       ("ap-northeast-1", "ap-northeast-1b"), ("us-west-1", "us-east-1a")])
def test_subnet_in_a_zone_the_region_lacks_is_refused(client, region, az):
    ec2 = client("ec2", region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    with pytest.raises(ClientError) as e:
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone=az)
    assert _code(e) == "InvalidParameterValue"
    assert f"Value ({az}) for parameter availabilityZone is invalid" in _msg(e)


# ------------------------------------------------------------------ validation: names
def test_cluster_name_pattern_and_length(client):
    net = _network(client, private=False, s3=False)
    eks = client("eks")
    role = _role(client, "cr", ["AmazonEKSClusterPolicy"])
    for bad in ["x" * 101, "-starts-with-hyphen", "has.dot", "has space"]:
        with pytest.raises(ClientError) as e:
            eks.create_cluster(name=bad, roleArn=role, resourcesVpcConfig={"subnetIds": net["subnets"]})
        assert _code(e) == "InvalidParameterException", bad
    eks.create_cluster(name="a" * 100, roleArn=role, resourcesVpcConfig={"subnetIds": net["subnets"]})


def test_iam_role_name_at_most_64(client):
    iam = client("iam")
    doc = json.dumps({"Version": "2012-10-17", "Statement": []})
    iam.create_role(RoleName="r" * 64, AssumeRolePolicyDocument=doc)
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName="r" * 65, AssumeRolePolicyDocument=doc)
    assert _code(e) == "ValidationError" and "length less than or equal to 64" in _msg(e)
    with pytest.raises(ClientError) as e:
        iam.create_role(RoleName="bad/name", AssumeRolePolicyDocument=doc)
    assert _code(e) == "ValidationError"


def test_nodegroup_name_at_most_63(client):
    net = _network(client, nat=True)
    eks = _cluster(client, net)
    with pytest.raises(ClientError) as e:
        _nodegroup(client, eks, net, name="n" * 64)
    assert _code(e) == "InvalidParameterException"
    assert _nodegroup(client, eks, net, name="n" * 63)["status"] == "ACTIVE"


def test_cluster_subnets_in_two_azs(client):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
               for i in range(2)]
    with pytest.raises(ClientError) as e:
        client("eks").create_cluster(name="c1", roleArn=f"arn:aws:iam::{ACCOUNT}:role/x",
                                     resourcesVpcConfig={"subnetIds": subnets})
    assert _code(e) == "InvalidParameterException" and "two different AZs" in _msg(e)


# ------------------------------------------------------------------ validation: endpoints
def test_endpoint_services_are_the_regions(client):
    names = client("ec2", "us-east-1").describe_vpc_endpoint_services()["ServiceNames"]
    assert "com.amazonaws.us-east-1.eks" in names and "com.amazonaws.us-east-1.ecr.dkr" in names
    # No EKS PrivateLink in ap-southeast-7 (EKS user guide, vpc-interface-endpoints).
    ec2 = client("ec2", "ap-southeast-7")
    names = ec2.describe_vpc_endpoint_services()["ServiceNames"]
    assert "com.amazonaws.ap-southeast-7.eks" not in names and "com.amazonaws.ap-southeast-7.sts" in names
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    with pytest.raises(ClientError) as e:
        ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.ap-southeast-7.eks", VpcEndpointType="Interface")
    assert _code(e) == "InvalidServiceName"
    with pytest.raises(ClientError) as e:
        ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.ap-southeast-7.nope", VpcEndpointType="Interface")
    assert _code(e) == "InvalidServiceName"


def test_switch_hides_an_endpoint_service(endpoint, client):
    assert _http(endpoint + "/_endpoint_services", "POST", {"region": R, "remove": ["ecr.dkr"]})[1] == {R: ["ecr.dkr"]}
    with pytest.raises(ClientError) as e:
        _network(client, endpoints=["ecr.dkr"])
    assert _code(e) == "InvalidServiceName"
    _http(endpoint + "/moto-api/reset", "POST")  # reset forgets it
    _network(client, endpoints=["ecr.dkr"])


def test_private_dns_needs_vpc_dns_support_and_hostnames(client):
    with pytest.raises(ClientError) as e:
        _network(client, endpoints=["sts"], dns=False)
    assert _code(e) == "InvalidParameter" and "enableDnsHostnames" in _msg(e)


def test_second_private_dns_endpoint_for_a_service_conflicts(client):
    net = _network(client, endpoints=["sts"])
    ec2 = client("ec2")
    with pytest.raises(ClientError) as e:
        ec2.create_vpc_endpoint(VpcId=net["vpc"], ServiceName=f"com.amazonaws.{R}.sts", VpcEndpointType="Interface",
                                SubnetIds=net["subnets"][:1], PrivateDnsEnabled=True)
    assert _code(e) == "InvalidParameter" and "conflicting DNS domain" in _msg(e)
    # without private DNS a second one is fine
    ec2.create_vpc_endpoint(VpcId=net["vpc"], ServiceName=f"com.amazonaws.{R}.sts", VpcEndpointType="Interface",
                            SubnetIds=net["subnets"][:1], PrivateDnsEnabled=False)


# ------------------------------------------------------------------ validation: updates
def test_update_in_progress_refuses_another(endpoint, client):
    net = _network(client, private=False, s3=False)
    eks = _cluster(client, net, version="1.33")
    _http(endpoint + "/_time", "POST", {"scale": 60})  # an hour per AWS minute: stays InProgress
    u = eks.update_cluster_version(name="c1", version="1.34")["update"]
    assert eks.describe_cluster(name="c1")["cluster"]["status"] == "UPDATING"
    assert eks.describe_cluster(name="c1")["cluster"]["version"] == "1.33"  # until the update is done
    with pytest.raises(ClientError) as e:
        eks.update_cluster_config(name="c1", logging={"clusterLogging": [{"types": ["api"], "enabled": True}]})
    assert _code(e) == "ResourceInUseException" and u["id"] in _msg(e)
    with pytest.raises(ClientError) as e:
        eks.update_cluster_version(name="c1", version="1.35")
    assert _code(e) == "ResourceInUseException"


def test_version_update_one_minor_only(client):
    net = _network(client, private=False, s3=False)
    eks = _cluster(client, net, version="1.32")
    with pytest.raises(ClientError) as e:
        eks.update_cluster_version(name="c1", version="1.34")
    assert _code(e) == "InvalidParameterException"
    eks.update_cluster_version(name="c1", version="1.33")
    assert eks.describe_cluster(name="c1")["cluster"]["version"] == "1.33"


def test_nodegroup_newer_than_control_plane_is_refused(client):
    net = _network(client, nat=True)
    eks = _cluster(client, net, version="1.33")
    with pytest.raises(ClientError) as e:
        _nodegroup(client, eks, net, version="1.34")
    assert _code(e) == "InvalidParameterException"
    _nodegroup(client, eks, net, version="1.32")
    with pytest.raises(ClientError) as e:
        eks.update_nodegroup_version(clusterName="c1", nodegroupName="ng", version="1.34")
    assert _code(e) == "InvalidParameterException"


# ------------------------------------------------------------------ time
def test_states_pass_over_time(endpoint, client):
    net = _network(client, nat=True)
    _http(endpoint + "/_time", "POST", {"scale": 0.2})  # 10-minute cluster create = 2 s
    eks = client("eks")
    c = eks.create_cluster(name="c1", version="1.34", roleArn=_role(client, "cr", ["AmazonEKSClusterPolicy"]),
                           resourcesVpcConfig={"subnetIds": net["subnets"]})["cluster"]
    assert c["status"] == "CREATING"
    with pytest.raises(ClientError) as e:  # node groups need an ACTIVE cluster
        _nodegroup(client, eks, net)
    assert _code(e) == "InvalidRequestException"
    _wait(lambda: eks.describe_cluster(name="c1")["cluster"]["status"], "ACTIVE")
    assert _nodegroup(client, eks, net)["status"] == "CREATING"
    _wait(lambda: eks.describe_nodegroup(clusterName="c1", nodegroupName="ng")["nodegroup"]["status"], "ACTIVE")
    assert eks.create_addon(clusterName="c1", addonName="vpc-cni")["addon"]["status"] == "CREATING"
    _wait(lambda: eks.describe_addon(clusterName="c1", addonName="vpc-cni")["addon"]["status"], "ACTIVE")
    u = eks.update_addon(clusterName="c1", addonName="vpc-cni", addonVersion="v1.18.3-eksbuild.1")["update"]
    assert u["status"] == "InProgress"
    _wait(lambda: eks.describe_update(name="c1", updateId=u["id"], addonName="vpc-cni")["update"]["status"], "Successful")
    ec2 = client("ec2")
    vpce = ec2.create_vpc_endpoint(VpcId=net["vpc"], ServiceName=f"com.amazonaws.{R}.logs", VpcEndpointType="Interface",
                                   SubnetIds=net["subnets"])["VpcEndpoint"]
    assert vpce["State"] == "pending"
    _wait(lambda: ec2.describe_vpc_endpoints(VpcEndpointIds=[vpce["VpcEndpointId"]])["VpcEndpoints"][0]["State"], "available")
    # deletes take time: DELETING until gone
    _http(endpoint + "/_time", "POST", {"scale": 0.5})
    eks.delete_addon(clusterName="c1", addonName="vpc-cni")
    assert eks.describe_addon(clusterName="c1", addonName="vpc-cni")["addon"]["status"] == "DELETING"
    eks.delete_nodegroup(clusterName="c1", nodegroupName="ng")
    assert eks.describe_nodegroup(clusterName="c1", nodegroupName="ng")["nodegroup"]["status"] == "DELETING"
    with pytest.raises(ClientError) as e:
        eks.delete_cluster(name="c1")
    assert _code(e) == "ResourceInUseException"
    _http(endpoint + "/_time", "POST", {"scale": 0})

    def ng_gone():
        try:
            return eks.describe_nodegroup(clusterName="c1", nodegroupName="ng")["nodegroup"]["status"]
        except ClientError as err:
            return err.response["Error"]["Code"]

    _wait(ng_gone, "ResourceNotFoundException")
    _http(endpoint + "/_time", "POST", {"scale": 1})
    assert eks.delete_cluster(name="c1")["cluster"]["status"] == "DELETING"
    assert eks.describe_cluster(name="c1")["cluster"]["status"] == "DELETING"


def test_nat_gateway_pending_then_available_and_deleting(endpoint, client):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    _http(endpoint + "/_time", "POST", {"scale": 0.5})
    nat = ec2.create_nat_gateway(SubnetId=sub, AllocationId=eip)["NatGateway"]["NatGatewayId"]
    state = lambda: ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"]  # noqa: E731
    assert _wait(state, "available") == ["pending", "available"]
    _http(endpoint + "/_time", "POST", {"scale": 2})  # deleting lasts 2 s
    ec2.delete_nat_gateway(NatGatewayId=nat)
    assert state() == "deleting"
    with pytest.raises(ClientError) as e:  # its address is still in use, and its ENI blocks the subnet
        ec2.release_address(AllocationId=eip)
    assert _code(e) == "InvalidIPAddress.InUse"
    with pytest.raises(ClientError) as e:
        ec2.delete_subnet(SubnetId=sub)
    assert _code(e) == "DependencyViolation"
    _wait(state, "deleted")
    ec2.release_address(AllocationId=eip)
    ec2.delete_subnet(SubnetId=sub)


def test_time_scale_endpoint(endpoint):
    assert _http(endpoint + "/_time", "POST", {"scale": 2.5})[1]["scale"] == 2.5
    assert _http(endpoint + "/_time", "POST", {"scale": -1})[0] == 400


# ------------------------------------------------------------------ dependencies
def test_control_plane_enis_block_subnet_sg_and_vpc_deletes_and_linger(endpoint, client):
    net = _network(client, private=False, s3=False)
    ec2 = client("ec2")
    extra = ec2.create_security_group(GroupName="extra", Description="x", VpcId=net["vpc"])["GroupId"]
    eks = client("eks")
    eks.create_cluster(name="c1", roleArn=_role(client, "cr", ["AmazonEKSClusterPolicy"]),
                       resourcesVpcConfig={"subnetIds": net["subnets"], "securityGroupIds": [extra]})
    c = eks.describe_cluster(name="c1")["cluster"]
    csg = c["resourcesVpcConfig"]["clusterSecurityGroupId"]
    assert c["resourcesVpcConfig"]["vpcId"] == net["vpc"]
    tags = {t["Key"]: t["Value"] for t in ec2.describe_security_groups(GroupIds=[csg])["SecurityGroups"][0]["Tags"]}
    assert tags["kubernetes.io/cluster/c1"] == "owned"
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "description", "Values": ["Amazon EKS c1"]}])["NetworkInterfaces"]
    assert sorted(e["SubnetId"] for e in enis) == sorted(net["subnets"])
    with pytest.raises(ClientError) as e:
        ec2.delete_subnet(SubnetId=net["subnets"][0])
    assert _code(e) == "DependencyViolation" and "has dependencies" in _msg(e)
    with pytest.raises(ClientError) as e:
        ec2.delete_security_group(GroupId=extra)
    assert _code(e) == "DependencyViolation" and "dependent object" in _msg(e)
    with pytest.raises(ClientError) as e:
        ec2.delete_vpc(VpcId=net["vpc"])
    assert _code(e) == "DependencyViolation"
    _http(endpoint + "/_time", "POST", {"scale": 0.5})
    eks.delete_cluster(name="c1")

    def cluster_gone():
        try:
            return eks.describe_cluster(name="c1")["cluster"]["status"]
        except ClientError as err:
            return err.response["Error"]["Code"]

    _wait(cluster_gone, "ResourceNotFoundException")
    # the ENIs outlive the cluster for a while
    assert ec2.describe_network_interfaces(Filters=[{"Name": "description", "Values": ["Amazon EKS c1"]}])["NetworkInterfaces"]
    with pytest.raises(ClientError):
        ec2.delete_subnet(SubnetId=net["subnets"][0])
    _wait(lambda: len(ec2.describe_network_interfaces(Filters=[{"Name": "description", "Values": ["Amazon EKS c1"]}])["NetworkInterfaces"]), 0)
    ec2.delete_security_group(GroupId=extra)
    for s in net["subnets"]:
        ec2.delete_subnet(SubnetId=s)
    assert not ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": [csg]}])["SecurityGroups"]


def test_interface_endpoint_enis_carry_its_security_groups(client):
    net = _network(client, endpoints=["sts"], s3=False)
    ec2 = client("ec2")
    with pytest.raises(ClientError) as e:
        ec2.delete_security_group(GroupId=net["sg"])
    assert _code(e) == "DependencyViolation"
    ec2.delete_vpc_endpoints(VpcEndpointIds=[net["endpoints"]["sts"]])
    state = ec2.describe_vpc_endpoints(VpcEndpointIds=[net["endpoints"]["sts"]])["VpcEndpoints"][0]["State"]
    assert state.lower() == "deleted"  # time scale 0: deleting is over by the next call
    ec2.delete_security_group(GroupId=net["sg"])


# ------------------------------------------------------------------ nodes that can't join
def test_private_nodegroup_with_every_path_joins(client):
    net = _network(client)
    eks = _cluster(client, net)
    assert _nodegroup(client, eks, net)["status"] == "ACTIVE"
    enis = client("ec2").describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": net["subnets"]}])["NetworkInterfaces"]
    assert len([e for e in enis if e["Description"] == ""]) == 2  # desired size 2: one ENI per node


@pytest.mark.parametrize("missing", ["ecr.dkr", "ec2", "sts", "s3"])
def test_nodegroup_without_a_path_to_a_service_fails(endpoint, client, missing):
    net = _network(client, endpoints=[s for s in SERVICES if s != missing], s3=missing != "s3")
    eks = _cluster(client, net)
    ng = _nodegroup(client, eks, net)
    assert ng["status"] == "CREATE_FAILED"
    assert [(i["code"], i["message"]) for i in ng["health"]["issues"]] == [
        ("NodeCreationFailure", "Instances failed to join the kubernetes cluster")]
    why = _http(endpoint + "/_k8s/nodegroup?cluster=c1&nodegroup=ng&region=us-east-1")[1]["reasons"]
    assert any(f"no route to {missing}" in r for r in why), why


def test_nodegroup_behind_a_nat_joins_without_endpoints(client):
    net = _network(client, private=False, s3=False, nat=True)
    eks = _cluster(client, net)
    assert _nodegroup(client, eks, net)["status"] == "ACTIVE"


def test_endpoint_sg_must_admit_443_from_the_nodes(endpoint, client):
    net = _network(client, sg_443=False)
    eks = _cluster(client, net)
    assert _nodegroup(client, eks, net)["status"] == "CREATE_FAILED"
    why = _http(endpoint + "/_k8s/nodegroup?cluster=c1&nodegroup=ng")[1]["reasons"]
    assert any("don't admit 443" in r for r in why), why


@pytest.mark.parametrize("policies", [["AmazonEC2ContainerRegistryReadOnly"], ["AmazonEKSWorkerNodePolicy"]])
def test_node_role_without_worker_or_ecr_policy_fails(client, policies):
    net = _network(client, private=False, s3=False, nat=True)
    eks = _cluster(client, net)
    ng = _nodegroup(client, eks, net, role=_role(client, "weak-node", policies))
    assert ng["status"] == "CREATE_FAILED" and ng["health"]["issues"][0]["code"] == "NodeCreationFailure"


def test_ami_type_that_the_instance_type_cant_run_is_refused(client):
    net = _network(client, private=False, s3=False, nat=True)
    eks = _cluster(client, net)
    with pytest.raises(ClientError) as e:
        _nodegroup(client, eks, net, amiType="AL2023_ARM_64_STANDARD", instanceTypes=["m5.large"])
    assert _code(e) == "InvalidParameterException"


def _nodeconfig(name, endpoint="https://x.eks.amazonaws.com"):
    return (f"---\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: {name}\n"
            f"    apiServerEndpoint: {endpoint}\n    certificateAuthority: Y2E=\n    cidr: 10.100.0.0/16\n")


def _mime(part):
    return ('MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="BOUNDARY"\n\n--BOUNDARY\n'
            f"Content-Type: application/node.eks.aws\n\n{part}\n--BOUNDARY--\n")


@pytest.mark.parametrize("image,user_data,ok", [
    ("ami-ekslinux", _mime(_nodeconfig("c1")), True),
    ("ami-ekslinux", _nodeconfig("c1"), True),
    ("ami-ekslinux", '[settings.kubernetes]\napi-server = "https://x"\ncluster-certificate = "Y2E="\ncluster-name = "c1"\n', True),
    ("ami-05ecc449720da3610", _mime(_nodeconfig("c1")), False),  # arm64 AMI, x86_64 instance type
    ("ami-ekslinux", _mime(_nodeconfig("other")), False),  # another cluster
    ("ami-ekslinux", _mime("apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec: {}\n"), False),
    ("ami-ekslinux", "#!/bin/bash\n/etc/eks/bootstrap.sh c1\n", False),  # not nodeadm (AL2 style)
    ("ami-ekslinux", '[settings.kubernetes]\ncluster-name = "c1"\n[settings.kubernetes]\napi-server = "x"\n', False),  # duplicate table
    ("ami-ekslinux", None, False),
])
def test_pinned_ami_user_data_and_architecture(client, image, user_data, ok):
    net = _network(client, private=False, s3=False, nat=True)
    eks = _cluster(client, net)
    data = {"ImageId": image, "InstanceType": "m5.large"}
    if user_data is not None:
        data["UserData"] = base64.b64encode(user_data.encode()).decode()
    lt = client("ec2").create_launch_template(LaunchTemplateName="lt", LaunchTemplateData=data)["LaunchTemplate"]["LaunchTemplateId"]
    ng = _nodegroup(client, eks, net, amiType="CUSTOM", instanceTypes=[], launchTemplate={"id": lt, "version": "1"})
    assert ng["status"] == ("ACTIVE" if ok else "CREATE_FAILED")


def test_coredns_degraded_until_pods_have_ips(endpoint, client):
    net = _network(client, private=False, s3=False, nat=True)
    eks = _cluster(client, net)
    eks.create_addon(clusterName="c1", addonName="coredns")
    a = eks.describe_addon(clusterName="c1", addonName="coredns")["addon"]
    assert a["status"] == "DEGRADED" and a["health"]["issues"][0]["code"] == "InsufficientNumberOfReplicas"
    _nodegroup(client, eks, net)
    assert eks.describe_addon(clusterName="c1", addonName="coredns")["addon"]["status"] == "DEGRADED"  # no vpc-cni
    cfg = {"env": {"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true"},
           "eniConfig": {"create": True, "region": R, "subnets": {"us-east-1a": {"id": net["subnets"][0]}}}}
    eks.create_addon(clusterName="c1", addonName="vpc-cni", configurationValues=json.dumps(cfg))
    assert eks.describe_addon(clusterName="c1", addonName="coredns")["addon"]["status"] == "DEGRADED"
    assert "us-east-1b" in _http(endpoint + "/_k8s/coredns?cluster=c1")[1]["reason"]
    cfg["eniConfig"]["subnets"]["us-east-1b"] = {"id": net["subnets"][1]}
    eks.update_addon(clusterName="c1", addonName="vpc-cni", configurationValues=json.dumps(cfg))
    a = eks.describe_addon(clusterName="c1", addonName="coredns")["addon"]
    assert a["status"] == "ACTIVE" and a["health"]["issues"] == []


# ------------------------------------------------------------------ leftovers Kubernetes makes
def test_load_balancer_hook_leaves_what_the_controller_leaves(endpoint, client):
    net = _network(client, private=False, s3=False)
    _cluster(client, net)
    status, lb = _http(endpoint + "/_k8s/loadbalancer", "POST", {"cluster": "c1", "region": R})
    assert status == 200
    elbv2, ec2 = client("elbv2"), client("ec2")
    for arn in (lb["loadBalancerArn"], lb["targetGroupArn"]):
        tags = {t["Key"]: t["Value"] for t in elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]}
        assert tags["elbv2.k8s.aws/cluster"] == "c1"
    sg = ec2.describe_security_groups(GroupIds=[lb["securityGroupId"]])["SecurityGroups"][0]
    assert {t["Key"]: t["Value"] for t in sg["Tags"]}["elbv2.k8s.aws/cluster"] == "c1" and sg["VpcId"] == net["vpc"]
    with pytest.raises(ClientError) as e:  # its ENIs hold the subnet and the SG
        ec2.delete_security_group(GroupId=lb["securityGroupId"])
    assert _code(e) == "DependencyViolation"
    elbv2.delete_load_balancer(LoadBalancerArn=lb["loadBalancerArn"])
    ec2.delete_security_group(GroupId=lb["securityGroupId"])
    assert _http(endpoint + "/_k8s/loadbalancer", "POST", {"cluster": "nope"})[0] == 404


def test_guardduty_hook_leaves_its_endpoint_and_sg(endpoint, client):
    net = _network(client, private=False, s3=False)
    _cluster(client, net)
    status, gd = _http(endpoint + "/_k8s/guardduty", "POST", {"cluster": "c1"})
    assert status == 200
    ec2 = client("ec2")
    vpce = ec2.describe_vpc_endpoints(VpcEndpointIds=[gd["vpcEndpointId"]])["VpcEndpoints"][0]
    assert vpce["ServiceName"] == f"com.amazonaws.{R}.guardduty-data" and vpce["VpcId"] == net["vpc"]
    assert {t["Key"] for t in vpce["Tags"]} == {"GuardDutyManaged"}
    sg = ec2.describe_security_groups(GroupIds=[gd["securityGroupId"]])["SecurityGroups"][0]
    assert "GuardDutyManaged" in {t["Key"] for t in sg["Tags"]}
    with pytest.raises(ClientError) as e:  # the VPC can't go while they exist
        ec2.delete_vpc(VpcId=net["vpc"])
    assert _code(e) == "DependencyViolation"


def test_load_balancer_controller_needs_exactly_one_tagged_node_sg(endpoint, client):
    net = _network(client, private=False, s3=False, nat=True)
    eks = _cluster(client, net)
    ec2 = client("ec2")
    a = ec2.create_security_group(GroupName="node-a", Description="a", VpcId=net["vpc"])["GroupId"]
    b = ec2.create_security_group(GroupName="node-b", Description="b", VpcId=net["vpc"])["GroupId"]
    lt = ec2.create_launch_template(LaunchTemplateName="lt", LaunchTemplateData={"SecurityGroupIds": [a, b]})
    _nodegroup(client, eks, net, launchTemplate={"id": lt["LaunchTemplate"]["LaunchTemplateId"], "version": "1"})
    status, out = _http(endpoint + "/_k8s/loadbalancer", "POST", {"cluster": "c1"})
    assert status == 409 and "expect exactly one securityGroup tagged with kubernetes.io/cluster/c1" in out["message"]
    ec2.create_tags(Resources=[b], Tags=[{"Key": "kubernetes.io/cluster/c1", "Value": "owned"}])
    status, lb = _http(endpoint + "/_k8s/loadbalancer", "POST", {"cluster": "c1"})
    assert status == 200
    rules = ec2.describe_security_groups(GroupIds=[b])["SecurityGroups"][0]["IpPermissions"]
    assert any(p.get("UserIdGroupPairs", [{}])[0].get("GroupId") == lb["securityGroupId"] for p in rules if p.get("UserIdGroupPairs"))
    client("elbv2").delete_load_balancer(LoadBalancerArn=lb["loadBalancerArn"])
    with pytest.raises(ClientError) as e:  # still referenced by the node SG's rule
        ec2.delete_security_group(GroupId=lb["securityGroupId"])
    assert _code(e) == "DependencyViolation"


def test_endpoint_deletion_finishes_even_when_its_route_table_went_first(client):
    net = _network(client, private=False, s3=True)
    ec2 = client("ec2")
    for a in ec2.describe_route_tables(RouteTableIds=[net["rt"]])["RouteTables"][0]["Associations"]:
        ec2.disassociate_route_table(AssociationId=a["RouteTableAssociationId"])
    for s in net["subnets"]:
        ec2.delete_subnet(SubnetId=s)
    ec2.delete_route_table(RouteTableId=net["rt"])
    ec2.delete_vpc_endpoints(VpcEndpointIds=[net["endpoints"]["s3"]])
    assert ec2.describe_vpc_endpoints(VpcEndpointIds=[net["endpoints"]["s3"]])["VpcEndpoints"][0]["State"].lower() == "deleted"
    ec2.delete_security_group(GroupId=net["sg"])
    ec2.delete_vpc(VpcId=net["vpc"])


# ------------------------------------------------------------------ idempotency and what goes with a cluster
def test_retried_creates_with_the_same_client_request_token_return_the_same_resource(client):
    """CreateCluster / CreateNodegroup / CreateAddon `clientRequestToken` "ensure[s] the idempotency
    of the request" (EKS API reference): a retry after a lost answer gets the same resource, another
    token for the same name is ResourceInUseException."""
    net = _network(client, private=False, s3=False)  # whether nodes can join does not matter here
    eks = client("eks")
    role = _role(client, "tok-cluster", ["AmazonEKSClusterPolicy"])
    vpc = {"subnetIds": net["subnets"], "endpointPublicAccess": False, "endpointPrivateAccess": True}
    first = eks.create_cluster(name="c1", version="1.34", roleArn=role, resourcesVpcConfig=vpc, clientRequestToken="t-c1")["cluster"]
    again = eks.create_cluster(name="c1", version="1.34", roleArn=role, resourcesVpcConfig=vpc, clientRequestToken="t-c1")["cluster"]
    assert (again["arn"], again["createdAt"]) == (first["arn"], first["createdAt"])
    assert eks.list_clusters()["clusters"] == ["c1"]
    with pytest.raises(ClientError) as e:
        eks.create_cluster(name="c1", version="1.34", roleArn=role, resourcesVpcConfig=vpc, clientRequestToken="t-other")
    assert _code(e) == "ResourceInUseException"
    assert eks.describe_cluster(name="c1")["cluster"]["status"] == "ACTIVE"  # time scale 0

    node_role = _role(client, "tok-node", NODE_POLICIES)
    ng = dict(clusterName="c1", nodegroupName="ng", subnets=net["subnets"], nodeRole=node_role,
              amiType="AL2023_x86_64_STANDARD", instanceTypes=["m5.large"])
    first = eks.create_nodegroup(**ng, clientRequestToken="t-ng")["nodegroup"]
    again = eks.create_nodegroup(**ng, clientRequestToken="t-ng")["nodegroup"]
    assert (again["nodegroupArn"], again["createdAt"]) == (first["nodegroupArn"], first["createdAt"])
    assert eks.list_nodegroups(clusterName="c1")["nodegroups"] == ["ng"]
    with pytest.raises(ClientError) as e:
        eks.create_nodegroup(**ng, clientRequestToken="t-ng-other")
    assert _code(e) == "ResourceInUseException"

    first = eks.create_addon(clusterName="c1", addonName="vpc-cni", clientRequestToken="t-cni")["addon"]
    again = eks.create_addon(clusterName="c1", addonName="vpc-cni", clientRequestToken="t-cni")["addon"]
    assert again["addonArn"] == first["addonArn"]
    assert eks.list_addons(clusterName="c1")["addons"] == ["vpc-cni"]
    with pytest.raises(ClientError) as e:
        eks.create_addon(clusterName="c1", addonName="vpc-cni", clientRequestToken="t-cni-other")
    assert _code(e) == "ResourceInUseException"


def test_delete_cluster_waits_for_its_nodegroups_and_takes_its_addons_and_access_entries(client):
    """DeleteCluster: "If you have managed node groups or Fargate profiles attached to the cluster,
    you must delete them first" (ResourceInUseException); add-ons and access entries are parts of
    the cluster and go with it: a new cluster of the same name has none
    (https://docs.aws.amazon.com/eks/latest/APIReference/API_DeleteCluster.html)."""
    net = _network(client, private=False, s3=False)  # whether nodes can join does not matter here
    eks = _cluster(client, net)
    _nodegroup(client, eks, net)
    eks.create_addon(clusterName="c1", addonName="vpc-cni")
    admin = _role(client, "someone", [])
    eks.create_access_entry(clusterName="c1", principalArn=admin)
    with pytest.raises(ClientError) as e:
        eks.delete_cluster(name="c1")
    assert _code(e) == "ResourceInUseException"
    assert "nodegroup" in _msg(e).lower()
    eks.delete_nodegroup(clusterName="c1", nodegroupName="ng")

    def gone(fn):
        try:
            fn()
            return "exists"
        except ClientError as err:
            return err.response["Error"]["Code"]

    _wait(lambda: gone(lambda: eks.describe_nodegroup(clusterName="c1", nodegroupName="ng")), "ResourceNotFoundException")
    eks.delete_cluster(name="c1")
    _wait(lambda: gone(lambda: eks.describe_cluster(name="c1")), "ResourceNotFoundException")
    assert gone(lambda: eks.describe_addon(clusterName="c1", addonName="vpc-cni")) == "ResourceNotFoundException"
    assert gone(lambda: eks.describe_access_entry(clusterName="c1", principalArn=admin)) == "ResourceNotFoundException"
    _cluster(client, net)  # the same name again: nothing of the old one
    assert eks.list_addons(clusterName="c1")["addons"] == []
    assert admin not in eks.list_access_entries(clusterName="c1")["accessEntries"]
    assert eks.list_nodegroups(clusterName="c1")["nodegroups"] == []


def test_addon_is_degraded_after_its_update_until_the_rollout_converges(endpoint, client):
    """After UpdateAddon the update is Successful, then the add-on is DEGRADED while its new pods
    roll out, then ACTIVE (hashicorp/terraform-provider-aws#49104)."""
    net = _network(client)
    eks = _cluster(client, net)
    eks.create_addon(clusterName="c1", addonName="vpc-cni", addonVersion="v1.18.3-eksbuild.1")
    assert eks.describe_addon(clusterName="c1", addonName="vpc-cni")["addon"]["status"] == "ACTIVE"
    _http(endpoint + "/_time", "POST", {"scale": 0.2})
    u = eks.update_addon(clusterName="c1", addonName="vpc-cni", addonVersion="v1.19.2-eksbuild.1")["update"]
    _wait(lambda: eks.describe_update(name="c1", updateId=u["id"], addonName="vpc-cni")["update"]["status"], "Successful")
    seen = _wait(lambda: eks.describe_addon(clusterName="c1", addonName="vpc-cni")["addon"]["status"], "ACTIVE")
    assert "DEGRADED" in seen, seen


def test_cluster_sg_referenced_by_another_group_is_left_behind(endpoint, client):
    """EKS deletes its cluster security group after the cluster, but not while another group's
    rule references it: then it stays for good (aws/aws-cdk#14456) and blocks DeleteVpc."""
    net = _network(client, private=False, s3=False)
    ec2 = client("ec2")
    eks = _cluster(client, net)
    csg = eks.describe_cluster(name="c1")["cluster"]["resourcesVpcConfig"]["clusterSecurityGroupId"]
    nodes = ec2.create_security_group(GroupName="nodes", Description="x", VpcId=net["vpc"])["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=nodes, IpPermissions=[
        {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": csg}]}])
    eks.delete_cluster(name="c1")

    def cluster_gone():
        try:
            return eks.describe_cluster(name="c1")["cluster"]["status"]
        except ClientError as err:
            return err.response["Error"]["Code"]

    _wait(cluster_gone, "ResourceNotFoundException")
    _wait(lambda: len(ec2.describe_network_interfaces(Filters=[{"Name": "description", "Values": ["Amazon EKS c1"]}])["NetworkInterfaces"]), 0)
    ec2.delete_security_group(GroupId=nodes)  # the reference goes: EKS does not come back for its group
    for _ in range(3):
        ec2.describe_vpcs()  # time scale 0: any retry would be due now
    assert ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": [csg]}])["SecurityGroups"]
