//! Look-ups for the AWS-backed preview rules: the region's zones, instance types, EKS AMI SSM
//! parameters and addon versions. Read-only calls.

use aws_sdk_ec2::types::InstanceType;
use secure_eks_core::rules::AwsFacts;

use crate::{Aws, ExecError};

fn err(what: &str, e: impl std::fmt::Display) -> ExecError {
    ExecError::Lookup(format!("{what}: {e}"))
}

impl Aws {
    /// Read what the AWS-backed rules need. Unknown instance types are simply absent from the
    /// answer; a missing SSM parameter is `false`.
    pub async fn facts(
        &self,
        types: &[String],
        params: &[String],
        addons: &[String],
        k8s_version: &str,
        images: &[String],
        subnets: &[String],
    ) -> Result<AwsFacts, ExecError> {
        let mut facts = AwsFacts::default();
        let ec2 = self.ec2();
        // Every zone, opt-in ones included, so a rule can tell "no such zone" from "not opted in".
        let zones = ec2
            .describe_availability_zones()
            .all_availability_zones(true)
            .send()
            .await
            .map_err(|e| err("DescribeAvailabilityZones", crate::errors::describe(&e)))?;
        facts.zones = Some(
            zones
                .availability_zones()
                .iter()
                .map(|z| secure_eks_core::rules::ZoneFacts {
                    name: z.zone_name().unwrap_or_default().to_string(),
                    state: z.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    zone_type: z.zone_type().unwrap_or_default().to_string(),
                    opt_in_status: z.opt_in_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                })
                .collect(),
        );
        let missing = |code: &str| code.starts_with("InvalidAMIID") || code.starts_with("InvalidSubnetID");
        for id in images {
            match ec2.describe_images().image_ids(id).send().await {
                Ok(out) => {
                    for img in out.images() {
                        if let Some(a) = img.architecture() {
                            facts.images.insert(id.clone(), a.as_str().to_string());
                        }
                    }
                }
                Err(e) => {
                    let code = e.as_service_error().and_then(|s| aws_sdk_ec2::error::ProvideErrorMetadata::code(s)).unwrap_or("");
                    if !missing(code) {
                        return Err(err("DescribeImages", crate::errors::describe(&e)));
                    }
                }
            }
        }
        for id in subnets {
            match ec2.describe_subnets().subnet_ids(id).send().await {
                Ok(out) => {
                    for sn in out.subnets() {
                        facts.subnets.insert(
                            id.clone(),
                            secure_eks_core::rules::SubnetFacts {
                                az: sn.availability_zone().unwrap_or_default().to_string(),
                                map_public_ip_on_launch: sn.map_public_ip_on_launch().unwrap_or(false),
                                vpc_id: sn.vpc_id().unwrap_or_default().to_string(),
                            },
                        );
                    }
                }
                Err(e) => {
                    let code = e.as_service_error().and_then(|s| aws_sdk_ec2::error::ProvideErrorMetadata::code(s)).unwrap_or("");
                    if !missing(code) {
                        return Err(err("DescribeSubnets", crate::errors::describe(&e)));
                    }
                }
            }
        }
        // One call per type: AWS rejects the whole request when any listed type is invalid.
        for t in types {
            let r = ec2.describe_instance_types().instance_types(InstanceType::from(t.as_str())).send().await;
            match r {
                Ok(out) => {
                    for it in out.instance_types() {
                        let archs = it
                            .processor_info()
                            .map(|p| p.supported_architectures().iter().map(|a| a.as_str().to_string()).collect())
                            .unwrap_or_default();
                        facts.instance_types.insert(t.clone(), archs);
                    }
                }
                Err(e) => {
                    let code = e.as_service_error().and_then(|s| aws_sdk_ec2::error::ProvideErrorMetadata::code(s)).unwrap_or("");
                    if !code.starts_with("InvalidInstanceType") {
                        return Err(err("DescribeInstanceTypes", crate::errors::describe(&e)));
                    }
                }
            }
        }
        let ssm = self.ssm();
        for chunk in params.chunks(10) {
            let out = ssm
                .get_parameters()
                .set_names(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| err("SSM GetParameters", crate::errors::describe(&e)))?;
            for p in out.parameters() {
                if let Some(n) = p.name() {
                    facts.ssm_parameters.insert(n.to_string(), true);
                }
            }
            for n in out.invalid_parameters() {
                facts.ssm_parameters.insert(n.clone(), false);
            }
        }
        let eks = self.eks();
        for a in addons {
            let out = eks
                .describe_addon_versions()
                .addon_name(a)
                .kubernetes_version(k8s_version)
                .send()
                .await
                .map_err(|e| err("EKS DescribeAddonVersions", crate::errors::describe(&e)))?;
            let versions = out
                .addons()
                .iter()
                .flat_map(|ai| ai.addon_versions().iter().filter_map(|v| v.addon_version().map(String::from)))
                .collect();
            facts.addon_versions.insert(a.clone(), versions);
        }
        Ok(facts)
    }
}
