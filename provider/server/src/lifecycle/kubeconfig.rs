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
pub async fn get_kubeconfig(configured: Option<&Configured>, args: &PropertyMap) -> Result<PropertyMap> {
    let configured = configured.ok_or(ProviderError::NotConfigured)?;
    let a = codec::decode::<GetKubeconfigArgs>(&Value::Object(args.clone())).map_err(|e| invalid(&e))?.value;
    let region = a.region.clone().unwrap_or_else(|| configured.region.clone());
    let aws = if region == configured.region { configured.aws.clone() } else { Aws::new(&configured.config, &region).await };
    let (endpoint, ca) = aws.cluster_access(&a.cluster_name).await?;
    let auth = KubeconfigAuth { profile: a.profile, role_arn: a.role_arn };
    let mut out = PropertyMap::new();
    out.insert("kubeconfig".into(), Value::Secret(Box::new(Value::String(kubeconfig_yaml(&a.cluster_name, &region, &endpoint, &ca, &auth)))));
    out.insert("kubeconfigJson".into(), Value::Secret(Box::new(Value::String(kubeconfig_json(&a.cluster_name, &region, &endpoint, &ca, &auth)))));
    Ok(out)
}
