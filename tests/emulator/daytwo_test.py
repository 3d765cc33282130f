"""The emulator stores and enforces the EKS day-two settings of issue #14 (moto_ext/eks_daytwo.py):
upgrade policy, zonal shift, deletion protection, node group update config and auto repair, the
accelerated AMI parameters, addons by name and the Pod Identity associations they own.

    PY=$(scripts/install-emulator.sh | tail -n1)
    "$PY" -m pytest -q tests/emulator/daytwo_test.py
"""

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from fidelity_test import _cluster, _code, _msg, _network, _nodegroup, _role, client, clean, endpoint  # noqa: F401 (fixtures)


def test_cluster_settings_are_stored_and_described(client):
    net = _network(client)
    eks = client("eks")
    eks.create_cluster(
        name="c1", version="1.34", roleArn=_role(client, "c1-cluster", ["AmazonEKSClusterPolicy"]),
        resourcesVpcConfig={"subnetIds": net["subnets"], "endpointPublicAccess": False, "endpointPrivateAccess": True},
        upgradePolicy={"supportType": "STANDARD"}, zonalShiftConfig={"enabled": True}, deletionProtection=True,
    )
    c = eks.describe_cluster(name="c1")["cluster"]
    assert c["upgradePolicy"] == {"supportType": "STANDARD"}
    assert c["zonalShiftConfig"] == {"enabled": True}
    assert c["deletionProtection"] is True
    # Without them: EKS's defaults (extended support, no zonal shift, no protection).
    _cluster(client, net, name="c2")
    c2 = eks.describe_cluster(name="c2")["cluster"]
    assert (c2["upgradePolicy"], c2["zonalShiftConfig"], c2["deletionProtection"]) == ({"supportType": "EXTENDED"}, {"enabled": False}, False)


def test_zonal_shift_and_deletion_protection_update_one_kind_at_a_time(client):
    eks = _cluster(client, _network(client))
    u = eks.update_cluster_config(name="c1", zonalShiftConfig={"enabled": True})["update"]
    assert u["type"] == "ZonalShiftConfigUpdate"
    assert eks.describe_cluster(name="c1")["cluster"]["zonalShiftConfig"] == {"enabled": True}
    u = eks.update_cluster_config(name="c1", deletionProtection=True)["update"]
    assert u["type"] == "DeletionProtectionUpdate"
    assert eks.describe_cluster(name="c1")["cluster"]["deletionProtection"] is True
    with pytest.raises(ClientError) as e:
        eks.update_cluster_config(name="c1", deletionProtection=False, zonalShiftConfig={"enabled": False})
    assert _code(e) == "InvalidParameterException" and "Only one type of update" in _msg(e)


def test_protected_active_cluster_cannot_be_deleted_until_protection_is_off(client):
    eks = _cluster(client, _network(client))
    eks.update_cluster_config(name="c1", deletionProtection=True)
    with pytest.raises(ClientError) as e:
        eks.delete_cluster(name="c1")
    assert _code(e) == "InvalidRequestException" and "deletion protection" in _msg(e)
    assert eks.describe_cluster(name="c1")["cluster"]["status"] == "ACTIVE"
    eks.update_cluster_config(name="c1", deletionProtection=False)
    assert eks.delete_cluster(name="c1")["cluster"]["status"] == "DELETING"


def test_nodegroup_update_config_and_repair_are_stored_and_checked(client, endpoint):
    net = _network(client)
    eks = _cluster(client, net)
    ng = _nodegroup(client, eks, net, updateConfig={"maxUnavailablePercentage": 33}, nodeRepairConfig={"enabled": True})
    assert ng["updateConfig"] == {"maxUnavailablePercentage": 33}
    assert ng["nodeRepairConfig"] == {"enabled": True}
    # Defaults when not given: one node at a time, no auto repair.
    ng2 = _nodegroup(client, eks, net, name="ng2")
    assert (ng2["updateConfig"], ng2["nodeRepairConfig"]) == ({"maxUnavailable": 1}, {"enabled": False})
    # boto3 checks the 1-100 range itself; the Rust SDK does not, so the server must.
    unchecked = boto3.client("eks", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                             aws_secret_access_key="testing", config=Config(parameter_validation=False, retries={"total_max_attempts": 1}))
    for bad in ({"maxUnavailable": 1, "maxUnavailablePercentage": 10}, {"maxUnavailablePercentage": 0}, {"maxUnavailable": 101}):
        with pytest.raises(ClientError) as e:
            _nodegroup(client, unchecked, net, name="bad", updateConfig=bad)
        assert _code(e) == "InvalidParameterException", bad
    eks.update_nodegroup_config(clusterName="c1", nodegroupName="ng2", updateConfig={"maxUnavailable": 2}, nodeRepairConfig={"enabled": True})
    ng2 = eks.describe_nodegroup(clusterName="c1", nodegroupName="ng2")["nodegroup"]
    assert (ng2["updateConfig"], ng2["nodeRepairConfig"]) == ({"maxUnavailable": 2}, {"enabled": True})


def test_accelerated_ami_parameters_exist_and_neuron_has_no_arm64(client):
    ssm = client("ssm")
    base = "/aws/service/eks/optimized-ami/1.34/amazon-linux-2023"
    names = [f"{base}/x86_64/nvidia/recommended/release_version", f"{base}/arm64/nvidia/recommended/release_version",
             f"{base}/x86_64/neuron/recommended/release_version", "/aws/service/bottlerocket/aws-k8s-1.34-nvidia/arm64/latest/image_version",
             f"{base}/arm64/neuron/recommended/release_version"]
    out = ssm.get_parameters(Names=names)
    assert sorted(p["Name"] for p in out["Parameters"]) == sorted(names[:4])
    assert out["InvalidParameters"] == [names[4]]


def test_addons_by_name_unknown_names_and_versions_refused_pod_identity_owned(client):
    net = _network(client)
    eks = _cluster(client, net)
    with pytest.raises(ClientError) as e:
        eks.create_addon(clusterName="c1", addonName="aws-efs-csi-drivr")
    assert _code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        eks.create_addon(clusterName="c1", addonName="aws-efs-csi-driver", addonVersion="v0.1.0-eksbuild.1")
    assert _code(e) == "InvalidParameterException"
    versions = eks.describe_addon_versions(addonName="metrics-server", kubernetesVersion="1.34")["addons"]
    assert versions and versions[0]["addonVersions"][0]["addonVersion"] == "v0.7.2-eksbuild.3"
    role = _role(client, "efs-role", ["service-role/AmazonEFSCSIDriverPolicy"])
    a = eks.create_addon(clusterName="c1", addonName="aws-efs-csi-driver",
                         podIdentityAssociations=[{"serviceAccount": "efs-csi-controller-sa", "roleArn": role}])["addon"]
    assert len(a["podIdentityAssociations"]) == 1
    assocs = eks.list_pod_identity_associations(clusterName="c1")["associations"]
    assert [x["serviceAccount"] for x in assocs] == ["efs-csi-controller-sa"]
    eks.delete_addon(clusterName="c1", addonName="aws-efs-csi-driver")
    assert eks.list_pod_identity_associations(clusterName="c1")["associations"] == []


def _auto_cluster(client, net, **compute):
    eks = client("eks")
    eks.create_cluster(
        name="auto", version="1.34",
        roleArn=_role(client, "auto-cluster", ["AmazonEKSClusterPolicy", "AmazonEKSComputePolicy", "AmazonEKSBlockStoragePolicy",
                                               "AmazonEKSLoadBalancingPolicy", "AmazonEKSNetworkingPolicy"]),
        resourcesVpcConfig={"subnetIds": net["subnets"], "endpointPublicAccess": False, "endpointPrivateAccess": True},
        **compute,
    )
    return eks


def test_auto_mode_is_all_or_nothing_and_stored(client):
    net = _network(client)
    node = _role(client, "auto-node", ["AmazonEKSWorkerNodeMinimalPolicy", "AmazonEC2ContainerRegistryPullOnly"])
    with pytest.raises(ClientError) as e:
        _auto_cluster(client, net, computeConfig={"enabled": True, "nodePools": ["general-purpose"], "nodeRoleArn": node})
    assert _code(e) == "InvalidParameterException" and "fully enabled or fully disabled" in _msg(e)
    with pytest.raises(ClientError) as e:
        _auto_cluster(client, net, computeConfig={"enabled": True, "nodePools": ["general-purpose"]},
                      storageConfig={"blockStorage": {"enabled": True}}, kubernetesNetworkConfig={"elasticLoadBalancing": {"enabled": True}})
    assert _code(e) == "InvalidParameterException" and "nodeRoleArn" in _msg(e)
    eks = _auto_cluster(client, net, computeConfig={"enabled": True, "nodePools": ["general-purpose", "system"], "nodeRoleArn": node},
                        storageConfig={"blockStorage": {"enabled": True}}, kubernetesNetworkConfig={"elasticLoadBalancing": {"enabled": True}})
    c = eks.describe_cluster(name="auto")["cluster"]
    assert c["computeConfig"] == {"enabled": True, "nodePools": ["general-purpose", "system"], "nodeRoleArn": node}
    assert c["storageConfig"] == {"blockStorage": {"enabled": True}}
    assert c["kubernetesNetworkConfig"]["elasticLoadBalancing"] == {"enabled": True}
    assert c["kubernetesNetworkConfig"]["serviceIpv4Cidr"] == "172.20.0.0/16"
