//! The provider configuration (`secure-eks:<key>` in stack config, or an explicit provider).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Configuration of the secure-eks provider: where AWS is and who we are there.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    /// Custom endpoint URLs per service (`ec2`, `iam`, `eks`, `ssm`, `sts`, `kms`, `logs`), for example
    /// a local emulator: `{ "eks": "http://127.0.0.1:5000" }`.
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
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

/// The AWS services whose endpoints can be overridden.
pub const ENDPOINT_SERVICES: [&str; 7] = ["ec2", "iam", "eks", "ssm", "sts", "kms", "logs"];
