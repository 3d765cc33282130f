//! The `getKubeconfig` function: a kubeconfig for cluster `clusterName` in `region`, for the
//! given AWS profile and role (the ambient identity when absent).

use secure_eks_core::codec;
use secure_eks_core::kubeconfig::{kubeconfig_json, kubeconfig_yaml, GetKubeconfigArgs, KubeconfigAuth};
use secure_eks_core::value::{PropertyMap, Value};
use secure_eks_executor::Aws;

use super::checks::invalid;
use super::{Configured, Result};
use crate::errors::ProviderError;

/// Answer `getKubeconfig`: `kubeconfig` (YAML) and `kubeconfigJson`, both secret.
pub async fn get_kubeconfig(configured: Option<&Configured>, args: &PropertyMap, preview: bool) -> Result<PropertyMap> {
    let configured = configured.ok_or(ProviderError::NotConfigured)?;
    let a = codec::decode::<GetKubeconfigArgs>(&Value::Object(args.clone())).map_err(|e| invalid(&e))?.value;
    let region = a.region.clone().unwrap_or_else(|| configured.region.clone());
    let aws = if region == configured.region { configured.aws.clone() } else { Aws::new(&configured.config, &region).await };
    let mut out = PropertyMap::new();
    let (endpoint, ca) = match aws.cluster_access(&a.cluster_name).await? {
        Some(found) => found,
        // The engine takes no unknowns from Invoke, not even at preview: a cluster the same
        // program creates has its own `kubeconfig` outputs; this function is for clusters that exist.
        None => {
            let when = if preview { " (yet: a cluster this program creates has its own kubeconfig and kubeconfigJson outputs)" } else { "" };
            return Err(ProviderError::FailedPrecondition(format!(
                "getKubeconfig: there is no EKS cluster {:?} in {region}{when}\nFix: call getKubeconfig for an existing cluster, with its clusterName output and region",
                a.cluster_name
            )));
        }
    };
    let auth = KubeconfigAuth { profile: a.profile, role_arn: a.role_arn };
    out.insert("kubeconfig".into(), Value::Secret(Box::new(Value::String(kubeconfig_yaml(&a.cluster_name, &region, &endpoint, &ca, &auth)))));
    out.insert("kubeconfigJson".into(), Value::Secret(Box::new(Value::String(kubeconfig_json(&a.cluster_name, &region, &endpoint, &ca, &auth)))));
    Ok(out)
}
