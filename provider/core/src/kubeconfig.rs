//! Kubeconfigs that work where the program ran: exec authentication through `aws eks get-token`
//! with the provider's profile and role, as YAML (`kubeconfig`) and JSON (`kubeconfigJson`).
//! Also the inputs and result of the `getKubeconfig` function.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::model::ProviderConfig;

/// The function token.
pub const GET_KUBECONFIG_TOKEN: &str = "secure-eks:index:getKubeconfig";

/// Whose credentials `aws eks get-token` uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeconfigAuth {
    /// The AWS profile (`AWS_PROFILE` in the exec env).
    pub profile: Option<String>,
    /// A role to assume for the token (`--role-arn`).
    pub role_arn: Option<String>,
}

impl KubeconfigAuth {
    /// The provider's own identity: its `profile` and `assumeRole.roleArn`.
    pub fn of_provider(cfg: &ProviderConfig) -> Self {
        KubeconfigAuth { profile: cfg.profile.clone(), role_arn: cfg.assume_role.as_ref().map(|r| r.role_arn.clone()) }
    }
}

/// A kubeconfig for another identity: the cluster name and region, and optionally the AWS
/// profile and the role `aws eks get-token` uses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetKubeconfigArgs {
    /// The EKS cluster name (the cluster's `clusterName` output).
    pub cluster_name: String,
    /// The cluster's region. The provider's region when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The AWS profile `aws eks get-token` runs with (`AWS_PROFILE`). The ambient credentials when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// A role ARN `aws eks get-token` assumes (`--role-arn`) for the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

/// The kubeconfig `getKubeconfig` returns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetKubeconfigResult {
    /// The kubeconfig (YAML). Secret.
    #[schemars(extend("secret" = true))]
    pub kubeconfig: String,
    /// The same kubeconfig as JSON. Secret.
    #[schemars(extend("secret" = true))]
    pub kubeconfig_json: String,
}

impl crate::codec::SecretFields for GetKubeconfigArgs {
    const SECRET_FIELDS: &'static [&'static str] = &[];
}

/// The exec arguments of `aws eks get-token`.
fn args(name: &str, region: &str, auth: &KubeconfigAuth) -> Vec<String> {
    let mut a: Vec<String> = ["eks", "get-token", "--cluster-name", name, "--region", region, "--output", "json"].iter().map(|s| s.to_string()).collect();
    if let Some(r) = &auth.role_arn {
        a.extend(["--role-arn".to_string(), r.clone()]);
    }
    a
}

/// The kubeconfig as a JSON value.
pub fn kubeconfig_value(name: &str, region: &str, endpoint: &str, ca_data: &str, auth: &KubeconfigAuth) -> serde_json::Value {
    let mut exec = json!({
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "aws",
        "args": args(name, region, auth),
        "interactiveMode": "Never",
    });
    if let Some(p) = &auth.profile {
        exec["env"] = json!([{"name": "AWS_PROFILE", "value": p}]);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
        "users": [{"name": name, "user": {"exec": exec}}],
    })
}

/// The kubeconfig as compact JSON text (`kubeconfigJson`).
pub fn kubeconfig_json(name: &str, region: &str, endpoint: &str, ca_data: &str, auth: &KubeconfigAuth) -> String {
    kubeconfig_value(name, region, endpoint, ca_data, auth).to_string()
}

/// The kubeconfig as YAML (`kubeconfig`). Every scalar is a JSON string, which YAML reads as a
/// double-quoted scalar, so no name or ARN can break the document.
pub fn kubeconfig_yaml(name: &str, region: &str, endpoint: &str, ca_data: &str, auth: &KubeconfigAuth) -> String {
    let q = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    let args = args(name, region, auth).iter().map(|a| q(a)).collect::<Vec<_>>().join(", ");
    let env = match &auth.profile {
        Some(p) => format!("      env:\n      - name: AWS_PROFILE\n        value: {}\n", q(p)),
        None => String::new(),
    };
    let (n, e, c) = (q(name), q(endpoint), q(ca_data));
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {n}\n  cluster:\n    server: {e}\n    certificate-authority-data: {c}\ncontexts:\n- name: {n}\n  context:\n    cluster: {n}\n    user: {n}\ncurrent-context: {n}\nusers:\n- name: {n}\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n      args: [{args}]\n{env}      interactiveMode: Never\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_carries_the_profile_and_role_and_both_forms_agree() {
        let auth = KubeconfigAuth { profile: Some("team-a".into()), role_arn: Some("arn:aws:iam::123456789012:role/admins".into()) };
        let j: serde_json::Value = serde_json::from_str(&kubeconfig_json("demo", "eu-west-1", "https://x.eks.amazonaws.com", "Q0E=", &auth)).unwrap();
        let exec = &j["users"][0]["user"]["exec"];
        assert_eq!(exec["args"], json!(["eks", "get-token", "--cluster-name", "demo", "--region", "eu-west-1", "--output", "json", "--role-arn", "arn:aws:iam::123456789012:role/admins"]));
        assert_eq!(exec["env"], json!([{"name": "AWS_PROFILE", "value": "team-a"}]));
        let y = kubeconfig_yaml("demo", "eu-west-1", "https://x.eks.amazonaws.com", "Q0E=", &auth);
        assert!(y.contains("\"--role-arn\", \"arn:aws:iam::123456789012:role/admins\"]") && y.contains("value: \"team-a\""), "{y}");
        let plain = kubeconfig_yaml("demo", "eu-west-1", "https://x", "Q0E=", &KubeconfigAuth::default());
        assert!(!plain.contains("env:") && !plain.contains("--role-arn"), "{plain}");
    }
}
