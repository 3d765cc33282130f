"""Smoke test for the local AWS emulator (tests/emulator/moto_ext_server.py).

Run with the emulator venv (scripts/install-emulator.sh prints its python):

    PY=$(scripts/install-emulator.sh | tail -n1)
    "$PY" -m pytest -q tests/emulator/smoke_test.py

The module starts its own server on a free 127.0.0.1 port with the running interpreter,
exactly as the Rust tests do, and stops it at the end.
"""

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
REGION = "us-west-2"
ACCOUNT = "123456789012"
STS_PROBE_AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/sts/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _probe(url):
    """The documented readiness probe: STS GetCallerIdentity over plain HTTP."""
    req = urllib.request.Request(
        url + "/",
        data=b"Action=GetCallerIdentity&Version=2011-06-15",
        headers={"Authorization": STS_PROBE_AUTH, "Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=2) as r:
            return f"<Account>{ACCOUNT}</Account>" in r.read().decode()
    except OSError:
        return False


def _http(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.read()


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path_factory.mktemp("emulator") / "server.log").open("wb")
    # Time scale 0: every state transition is due at once (applied on the next request).
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), "-H", "127.0.0.1", "-p", str(port)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        env=dict(os.environ, SECURE_EKS_EMULATOR_TIME_SCALE="0"),
    )
    t0 = time.monotonic()
    try:
        while not _probe(url):
            assert proc.poll() is None, f"emulator exited with {proc.returncode}; see {log.name}"
            assert time.monotonic() - t0 < 60, "emulator did not answer within 60 s"
            time.sleep(0.1)
        print(f"emulator ready on {url} in {time.monotonic() - t0:.2f}s", file=sys.stderr)
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
    # Fault rules survive /moto-api/reset, so clear both.
    _http(endpoint + "/_fault", "DELETE")
    _http(endpoint + "/moto-api/reset", "POST")
    yield
    _http(endpoint + "/_fault", "DELETE")


@pytest.fixture
def client(endpoint):
    def make(service, region=REGION, attempts=1, **kw):
        return boto3.client(
            service, endpoint_url=endpoint, region_name=region,
            aws_access_key_id="testing", aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": attempts, "mode": "standard"}), **kw,
        )
    return make


def _cluster(client, name="c1", version="1.34", **extra):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=REGION + az)["Subnet"]["SubnetId"]
        for i, az in ((1, "a"), (2, "b"))
    ]
    return client("eks").create_cluster(
        name=name, version=version, roleArn=f"arn:aws:iam::{ACCOUNT}:role/cluster",
        resourcesVpcConfig={"subnetIds": subnets, "endpointPublicAccess": False, "endpointPrivateAccess": True},
        **extra,
    )["cluster"]


# ------------------------------------------------------------------ core moto behaviour
def test_sts_get_caller_identity(client):
    ident = client("sts").get_caller_identity()
    assert ident["Account"] == ACCOUNT
    # As AWS answers for an IAM user (moto alone says arn:aws:sts::...; moto_ext/sts_identity.py
    # gives AWS's form, which the deployer-admin mapping relies on).
    assert ident["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/moto"


def test_sts_assume_role_into_other_account(client):
    # Credentials from AssumeRole map to the role's account: lets tests exercise allowedAccountIds.
    creds = client("sts").assume_role(RoleArn="arn:aws:iam::210987654321:role/x", RoleSessionName="test")["Credentials"]
    other = boto3.client(
        "sts", endpoint_url=client("sts").meta.endpoint_url, region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    assert other.get_caller_identity()["Account"] == "210987654321"


def test_eks_create_and_describe_cluster(client):
    created = _cluster(
        client, accessConfig={"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False},
        encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k"}}],
    )
    assert created["status"] == "CREATING"  # as AWS answers; ACTIVE on the next call at time scale 0
    c = client("eks").describe_cluster(name="c1")["cluster"]
    assert c["status"] == "ACTIVE"
    assert c["version"] == "1.34"
    assert c["arn"] == f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/c1"
    assert c["identity"]["oidc"]["issuer"].startswith(f"https://oidc.eks.{REGION}.amazonaws.com/id/")
    assert c["certificateAuthority"]["data"]
    assert c["resourcesVpcConfig"]["endpointPublicAccess"] is False
    # extension: accessConfig round-trips (moto 5.2.5 drops it)
    assert c["accessConfig"]["authenticationMode"] == "API"
    assert c["encryptionConfig"][0]["resources"] == ["secrets"]


# ------------------------------------------------------------------ extension: EKS
def test_describe_addon_versions(client):
    eks = client("eks")
    addons = {a["addonName"]: a for a in eks.describe_addon_versions()["addons"]}
    assert {"vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent"} <= set(addons)
    vers = eks.describe_addon_versions(addonName="vpc-cni", kubernetesVersion="1.34")["addons"][0]["addonVersions"]
    defaults = [v["addonVersion"] for v in vers if any(c["clusterVersion"] == "1.34" and c["defaultVersion"] for c in v["compatibilities"])]
    assert defaults == ["v1.19.2-eksbuild.1"]
    assert "arm64" in vers[0]["architecture"]
    assert eks.describe_addon_versions(kubernetesVersion="1.99")["addons"] == []


def test_describe_addon_configuration(client):
    r = client("eks").describe_addon_configuration(addonName="vpc-cni", addonVersion="v1.19.2-eksbuild.1")
    schema = json.loads(r["configurationSchema"])
    assert "eniConfig" in schema["properties"]
    with pytest.raises(ClientError) as e:
        client("eks").describe_addon_configuration(addonName="vpc-cni", addonVersion="v0.0.1")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_describe_cluster_versions(client):
    vs = client("eks").describe_cluster_versions(versionStatus="STANDARD_SUPPORT")["clusterVersions"]
    assert "1.34" in [v["clusterVersion"] for v in vs]
    assert sum(v["defaultVersion"] for v in vs) == 1


def test_addon_access_entry_pod_identity_lifecycle(client):
    _cluster(client)
    eks = client("eks")
    a = eks.create_addon(clusterName="c1", addonName="vpc-cni", resolveConflicts="OVERWRITE")["addon"]
    assert a["status"] == "CREATING" and a["addonVersion"] == "v1.19.2-eksbuild.1"
    eks.get_waiter("addon_active").wait(clusterName="c1", addonName="vpc-cni", WaiterConfig={"Delay": 1, "MaxAttempts": 2})
    upd = eks.update_addon(clusterName="c1", addonName="vpc-cni", addonVersion="v1.18.3-eksbuild.1")["update"]
    assert eks.describe_update(name="c1", updateId=upd["id"], addonName="vpc-cni")["update"]["status"] == "Successful"
    principal = f"arn:aws:iam::{ACCOUNT}:role/team/admin"
    eks.create_access_entry(clusterName="c1", principalArn=principal)
    eks.associate_access_policy(
        clusterName="c1", principalArn=principal,
        policyArn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", accessScope={"type": "cluster"},
    )
    pols = eks.list_associated_access_policies(clusterName="c1", principalArn=principal)["associatedAccessPolicies"]
    assert [p["policyArn"].rsplit("/", 1)[1] for p in pols] == ["AmazonEKSClusterAdminPolicy"]
    pid = eks.create_pod_identity_association(
        clusterName="c1", namespace="kube-system", serviceAccount="cluster-autoscaler", roleArn=f"arn:aws:iam::{ACCOUNT}:role/ca",
    )["association"]["associationId"]
    assert eks.describe_pod_identity_association(clusterName="c1", associationId=pid)["association"]["serviceAccount"] == "cluster-autoscaler"
    eks.delete_addon(clusterName="c1", addonName="vpc-cni")
    with pytest.raises(ClientError) as e:
        eks.describe_addon(clusterName="c1", addonName="vpc-cni")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_cluster_updates(client):
    _cluster(client, version="1.33")
    eks = client("eks")
    # authentication mode is one-way
    eks.update_cluster_config(name="c1", accessConfig={"authenticationMode": "API"})
    with pytest.raises(ClientError) as e:
        eks.update_cluster_config(name="c1", accessConfig={"authenticationMode": "CONFIG_MAP"})
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    # endpoint updates merge into resourcesVpcConfig (subnets kept)
    eks.update_cluster_config(name="c1", resourcesVpcConfig={"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]})
    vpc = eks.describe_cluster(name="c1")["cluster"]["resourcesVpcConfig"]
    assert len(vpc["subnetIds"]) == 2 and vpc["publicAccessCidrs"] == ["203.0.113.0/24"]
    # one minor at a time
    with pytest.raises(ClientError):
        eks.update_cluster_version(name="c1", version="1.35")
    u = eks.update_cluster_version(name="c1", version="1.34")["update"]
    assert u["type"] == "VersionUpdate" and u["status"] == "InProgress"
    assert eks.describe_update(name="c1", updateId=u["id"])["update"]["status"] == "Successful"
    ng = eks.create_nodegroup(
        clusterName="c1", nodegroupName="ng", nodeRole=f"arn:aws:iam::{ACCOUNT}:role/node",
        subnets=eks.describe_cluster(name="c1")["cluster"]["resourcesVpcConfig"]["subnetIds"],
        amiType="AL2023_x86_64_STANDARD", releaseVersion="1.34.0-20261101",
    )["nodegroup"]
    assert ng["version"] == "1.34" and "remoteAccess" not in ng
    eks.update_nodegroup_version(clusterName="c1", nodegroupName="ng", releaseVersion="1.34.0-20261201")
    assert eks.describe_nodegroup(clusterName="c1", nodegroupName="ng")["nodegroup"]["releaseVersion"] == "1.34.0-20261201"


# ------------------------------------------------------------------ extension: SSM AMI parameters
@pytest.mark.parametrize("region", ["us-west-2", "us-east-1", "eu-central-1"])
@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_ssm_eks_ami_parameters(client, region, arch):
    ssm = client("ssm", region=region)
    base = f"/aws/service/eks/optimized-ami/1.34/amazon-linux-2023/{arch}/standard/recommended"
    ami = ssm.get_parameter(Name=f"{base}/image_id")["Parameter"]["Value"]
    assert ami.startswith("ami-")
    assert ssm.get_parameter(Name=f"{base}/release_version")["Parameter"]["Value"] == "1.34.0-20261101"
    img = client("ec2", region=region).describe_images(ImageIds=[ami])["Images"][0]
    assert img["Architecture"] == arch
    br = ssm.get_parameter(Name=f"/aws/service/bottlerocket/aws-k8s-1.34/{arch}/latest/image_id")["Parameter"]["Value"]
    assert br == ami


def test_ssm_no_al2_for_133_and_later(client):
    ssm = client("ssm")
    assert ssm.get_parameter(Name="/aws/service/eks/optimized-ami/1.32/amazon-linux-2/recommended/image_id")["Parameter"]["Value"]
    with pytest.raises(ClientError) as e:
        ssm.get_parameter(Name="/aws/service/eks/optimized-ami/1.33/amazon-linux-2/recommended/image_id")
    assert e.value.response["Error"]["Code"] == "ParameterNotFound"


# ------------------------------------------------------------------ extension: logs / KMS
def test_logs_retention_and_kms(client):
    logs, kms = client("logs"), client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=180)
    rot = kms.get_key_rotation_status(KeyId=key)
    assert rot["KeyRotationEnabled"] is True and rot["RotationPeriodInDays"] == 180
    logs.create_log_group(logGroupName="/aws/eks/c1/cluster")
    logs.put_retention_policy(logGroupName="/aws/eks/c1/cluster", retentionInDays=90)
    with pytest.raises(ClientError) as e:
        logs.put_retention_policy(logGroupName="/aws/eks/c1/cluster", retentionInDays=91)
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    logs.associate_kms_key(logGroupName="/aws/eks/c1/cluster", kmsKeyId=key)
    g = logs.describe_log_groups(logGroupNamePrefix="/aws/eks/c1")["logGroups"][0]
    assert g["retentionInDays"] == 90 and g["kmsKeyId"] == key


# ------------------------------------------------------------------ extension: /_fault
def test_fault_query_protocol_sts(endpoint, client):
    status, body = _http(endpoint + "/_fault", "POST", {"match": "GetCallerIdentity", "status": 429, "code": "Throttling", "count": 1})
    assert status == 200 and json.loads(body)[0]["count"] == 1
    sts = client("sts")
    with pytest.raises(ClientError) as e:
        sts.get_caller_identity()
    assert e.value.response["Error"]["Code"] == "Throttling"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert sts.get_caller_identity()["Account"] == ACCOUNT  # count exhausted


def test_fault_rest_json_eks(endpoint, client):
    _cluster(client)
    _http(endpoint + "/_fault", "POST", {"match": r"^GET /clusters/c1 ", "status": 503, "code": "ServiceUnavailableException"})
    eks = client("eks")
    with pytest.raises(ClientError) as e:
        eks.describe_cluster(name="c1")
    assert e.value.response["Error"]["Code"] == "ServiceUnavailableException"
    assert eks.describe_cluster(name="c1")["cluster"]["name"] == "c1"


def test_fault_json_ssm_and_ec2(endpoint, client):
    _http(endpoint + "/_fault", "POST", {"match": "AmazonSSM.GetParameter", "status": 400, "code": "ThrottlingException"})
    _http(endpoint + "/_fault", "POST", {"match": "DescribeVpcs", "status": 503, "code": "RequestLimitExceeded"})
    with pytest.raises(ClientError) as e:
        client("ssm").get_parameter(Name="/aws/service/eks/optimized-ami/1.34/amazon-linux-2023/x86_64/standard/recommended/image_id")
    assert e.value.response["Error"]["Code"] == "ThrottlingException"
    with pytest.raises(ClientError) as e:
        client("ec2").describe_vpcs()
    assert e.value.response["Error"]["Code"] == "RequestLimitExceeded"


def test_fault_sdk_retries_through_throttling(endpoint, client):
    _http(endpoint + "/_fault", "POST", {"match": "GetCallerIdentity", "status": 429, "code": "Throttling", "count": 2})
    assert client("sts", attempts=3).get_caller_identity()["Account"] == ACCOUNT


def test_fault_latency_only_and_clear(endpoint, client):
    _http(endpoint + "/_fault", "POST", {"match": "GetCallerIdentity", "status": 0, "delay_ms": 300})
    t0 = time.monotonic()
    assert client("sts").get_caller_identity()["Account"] == ACCOUNT
    assert time.monotonic() - t0 >= 0.3
    # rules survive /moto-api/reset; DELETE /_fault clears them
    _http(endpoint + "/_fault", "POST", {"match": "GetCallerIdentity", "status": 500, "code": "InternalFailure", "count": -1})
    _http(endpoint + "/moto-api/reset", "POST")
    for _ in range(2):  # count -1 never runs out
        with pytest.raises(ClientError):
            client("sts").get_caller_identity()
    status, body = _http(endpoint + "/_fault", "DELETE")
    assert json.loads(body) == []
    assert client("sts").get_caller_identity()["Account"] == ACCOUNT


def test_fault_after_commit_takes_effect_then_fails(endpoint, client):
    _http(endpoint + "/_fault", "POST", {"match": "CreateVpc", "status": 500, "code": "InternalError", "after": True})
    ec2 = client("ec2")
    with pytest.raises(ClientError) as e:
        ec2.create_vpc(CidrBlock="10.9.0.0/16")
    assert e.value.response["Error"]["Code"] == "InternalError"
    assert [v["CidrBlock"] for v in ec2.describe_vpcs()["Vpcs"]].count("10.9.0.0/16") == 1  # it happened


def test_ec2_client_token_is_idempotent_until_reset(endpoint, client):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.0.0/24")["Subnet"]["SubnetId"]
    one = ec2.create_route_table(VpcId=vpc, ClientToken="tok-1")["RouteTable"]["RouteTableId"]
    again = ec2.create_route_table(VpcId=vpc, ClientToken="tok-1")["RouteTable"]["RouteTableId"]
    other = ec2.create_route_table(VpcId=vpc, ClientToken="tok-2")["RouteTable"]["RouteTableId"]
    assert one == again != other and subnet
    _http(endpoint + "/moto-api/reset", "POST")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    fresh = ec2.create_route_table(VpcId=vpc, ClientToken="tok-1")["RouteTable"]["RouteTableId"]
    assert [r["RouteTableId"] for r in ec2.describe_route_tables(RouteTableIds=[fresh])["RouteTables"]] == [fresh]


def test_request_log(endpoint, client):
    _http(endpoint + "/_requests", "DELETE")
    _http(endpoint + "/_fault", "POST", {"match": "GetCallerIdentity", "status": 429, "code": "Throttling"})
    sts = client("sts", attempts=2)
    sts.get_caller_identity()
    status, body = _http(endpoint + "/_requests")
    assert status == 200
    assert json.loads(body) == [["POST /  GetCallerIdentity", 429, "sts"], ["POST /  GetCallerIdentity", 200, "sts"]]
    status, body = _http(endpoint + "/_requests", "DELETE")
    assert json.loads(body) == []
