//! The provider configuration (`secure-eks:<key>` in stack config, or an explicit provider).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Configuration of the secure-eks provider: where AWS is and who we are there.
// `Debug` (below) shows `[redacted]` for the credentials.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderConfig {
    /// The one AWS region everything lives in. Falls back to `AWS_REGION`, then `AWS_DEFAULT_REGION`;
    /// required after that fallback. Example: `eu-west-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("defaultInfo" = {"environment": ["AWS_REGION", "AWS_DEFAULT_REGION"]}))]
    pub region: Option<String>,
    /// A named profile from the shared AWS config and credentials files. Defaults to the standard chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// A static access key id. Prefer the standard chain or `profile`; when set, `secretKey` is required too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("secret" = true))]
    pub access_key: Option<String>,
    /// The static secret access key that goes with `accessKey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("secret" = true))]
    pub secret_key: Option<String>,
    /// A session token for temporary static credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("secret" = true))]
    pub token: Option<String>,
    /// A role to assume before any other call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assume_role: Option<AssumeRole>,
    /// Custom endpoint URLs per service (`ec2`, `iam`, `eks`, `ssm`, `sts`, `kms`, `logs`, `elbv2`), for
    /// example a local emulator: `{ "eks": "http://127.0.0.1:5000" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<BTreeMap<String, String>>,
    /// When set, `Configure` calls STS GetCallerIdentity and refuses any other account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_account_ids: Option<Vec<String>>,
    /// Skip the STS GetCallerIdentity call in `Configure` (and with it the account check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_credentials_validation: Option<bool>,
    /// Tags put on every AWS resource the provider creates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_tags: Option<BTreeMap<String, String>>,
    /// The plugin version the engine adds to provider inputs; not a user setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub version: Option<String>,
}

/// A role to assume before calling AWS.
// `Debug` (below) shows `[redacted]` for the external id.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssumeRole {
    /// The ARN of the role to assume.
    pub role_arn: String,
    /// The session name; defaults to `secure-eks`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
    /// The external id the role's trust policy expects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("secret" = true))]
    pub external_id: Option<String>,
}

/// `[redacted]` for a secret that is set.
fn redact(v: &Option<String>) -> Option<&'static str> {
    v.as_ref().map(|_| "[redacted]")
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("region", &self.region)
            .field("profile", &self.profile)
            .field("access_key", &redact(&self.access_key))
            .field("secret_key", &redact(&self.secret_key))
            .field("token", &redact(&self.token))
            .field("assume_role", &self.assume_role)
            .field("endpoints", &self.endpoints)
            .field("allowed_account_ids", &self.allowed_account_ids)
            .field("skip_credentials_validation", &self.skip_credentials_validation)
            .field("default_tags", &self.default_tags)
            .field("version", &self.version)
            .finish()
    }
}

impl std::fmt::Debug for AssumeRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumeRole")
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field("external_id", &redact(&self.external_id))
            .finish()
    }
}

impl crate::codec::SecretFields for ProviderConfig {
    const SECRET_FIELDS: &'static [&'static str] = &["accessKey", "secretKey", "token", "externalId"];
}

/// The AWS services whose endpoints can be overridden.
pub const ENDPOINT_SERVICES: [&str; 8] = ["ec2", "iam", "eks", "ssm", "sts", "kms", "logs", "elbv2"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_secret() {
        let cfg = ProviderConfig {
            access_key: Some("AKIAEXAMPLEACCESSKEY".into()),
            secret_key: Some("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into()),
            token: Some("FwoGZXIvYXdzEXAMPLETOKEN".into()),
            assume_role: Some(AssumeRole { role_arn: "arn:aws:iam::123456789012:role/deploy".into(), session_name: None, external_id: Some("ext-id-EXAMPLE".into()) }),
            region: Some("eu-west-1".into()),
            ..Default::default()
        };
        let text = format!("{cfg:?} {cfg:#?}");
        for secret in ["AKIAEXAMPLEACCESSKEY", "wJalrXUtnFEMI", "FwoGZXIvYXdzEXAMPLETOKEN", "ext-id-EXAMPLE"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        // The rest stays readable.
        assert!(text.contains("eu-west-1") && text.contains("role/deploy") && text.contains("[redacted]"), "{text}");
    }
}
