//! The executor: the only crate that talks to AWS.
//!
//! It builds an AWS SDK configuration from the provider config (region, static credentials or the
//! default chain, an optional role to assume, per-service endpoint overrides) and performs the
//! calls. Retries and timeouts come from the SDK's own retry config.

use std::collections::BTreeMap;

pub mod apply;
mod audit;
mod facts;
pub use apply::{is_existing, ApplyError, Progress};

mod ctx;
pub mod errors;
mod identity;
pub use identity::Caller;
mod drift;
mod ec2;
mod endpoint_services;
mod import;
mod readonly;
mod replay;
mod retag;
mod eks;
mod graph;
mod iam;
mod kms;
mod leftovers;
mod logs;
mod retry;
mod ssm;
mod userdata;

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use aws_types::region::Region;
use aws_types::SdkConfig;
use secure_eks_core::model::ProviderConfig;

/// Errors from AWS calls.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// STS GetCallerIdentity failed.
    #[error("STS GetCallerIdentity failed: {0}")]
    CallerIdentity(String),
    /// A read-only look-up for the preview rules failed.
    #[error("{0}")]
    Lookup(String),
    /// STS answered without an account id.
    #[error("STS GetCallerIdentity returned no account id")]
    MissingAccount,
    /// The credentials belong to an account the config does not allow.
    #[error("the credentials belong to account {account}, which is not in allowedAccountIds ({allowed})\nFix: use credentials for an allowed account (another profile or role), or add the account to secure-eks:allowedAccountIds")]
    AccountNotAllowed {
        /// The caller's account.
        account: String,
        /// The allowed list.
        allowed: String,
    },
}

/// An AWS session: the shared SDK config plus endpoint overrides. `Debug` shows the region,
/// the endpoints and the mode only, never the credentials the SDK config holds.
#[derive(Clone)]
pub struct Aws {
    sdk: SdkConfig,
    endpoints: BTreeMap<String, String>,
    /// Clients refuse every non-read operation ([`Aws::read_only`]).
    read_only: bool,
    /// The profile the provider config names, for error messages.
    profile: Option<String>,
}

impl std::fmt::Debug for Aws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aws")
            .field("region", &self.sdk.region().map(|r| r.as_ref().to_string()))
            .field("credentials", &"[redacted]")
            .field("endpoints", &self.endpoints)
            .field("read_only", &self.read_only)
            .finish()
    }
}

impl Aws {
    /// Build the SDK configuration for `region` from the provider config.
    pub async fn new(cfg: &ProviderConfig, region: &str) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .retry_config(retry::retry_config());
        if let Some(p) = &cfg.profile {
            loader = loader.profile_name(p);
        }
        if let (Some(ak), Some(sk)) = (&cfg.access_key, &cfg.secret_key) {
            loader = loader.credentials_provider(Credentials::new(
                ak.clone(),
                sk.clone(),
                cfg.token.clone(),
                None,
                "secure-eks-static",
            ));
        }
        let endpoints = cfg.endpoints.clone().unwrap_or_default();
        if let Some(sts) = endpoints.get("sts") {
            // The assume-role provider (if any) must reach STS through the override too.
            loader = loader.endpoint_url(sts.clone());
        }
        let mut sdk = loader.load().await;
        if let Some(role) = &cfg.assume_role {
            let mut b = aws_config::sts::AssumeRoleProvider::builder(role.role_arn.clone())
                .session_name(role.session_name.clone().unwrap_or_else(|| "secure-eks".into()))
                .configure(&sdk);
            if let Some(ext) = &role.external_id {
                b = b.external_id(ext.clone());
            }
            let provider = b.build().await;
            sdk = sdk
                .into_builder()
                .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(provider))
                .build();
        }
        Aws { sdk, endpoints, read_only: false, profile: cfg.profile.clone() }
    }

    /// The endpoint override for a service, if any.
    /// The same account and endpoints with clients that refuse every operation that is not a
    /// Describe, Get or List call.
    pub fn read_only(&self) -> Self {
        Aws { read_only: true, ..self.clone() }
    }

    pub fn endpoint(&self, service: &str) -> Option<&str> {
        self.endpoints.get(service).map(String::as_str)
    }

    fn sts(&self) -> aws_sdk_sts::Client {
        let mut b = aws_sdk_sts::config::Builder::from(&self.sdk);
        if let Some(url) = self.endpoint("sts") {
            b = b.endpoint_url(url);
        }
        aws_sdk_sts::Client::from_conf(b.build())
    }

    pub(crate) fn ec2(&self) -> aws_sdk_ec2::Client {
        let mut b = aws_sdk_ec2::config::Builder::from(&self.sdk);
        if let Some(url) = self.endpoint("ec2") {
            b = b.endpoint_url(url);
        }
        if self.read_only {
            b = b.interceptor(readonly::ReadOnly);
        }
        aws_sdk_ec2::Client::from_conf(b.retry_classifier(retry::ThrottleWatch).build())
    }

    pub(crate) fn iam(&self) -> aws_sdk_iam::Client {
        let mut b = aws_sdk_iam::config::Builder::from(&self.sdk);
        if let Some(url) = self.endpoint("iam") {
            b = b.endpoint_url(url);
        }
        if self.read_only {
            b = b.interceptor(readonly::ReadOnly);
        }
        aws_sdk_iam::Client::from_conf(b.retry_classifier(retry::ThrottleWatch).build())
    }

    pub(crate) fn eks(&self) -> aws_sdk_eks::Client {
        let mut b = aws_sdk_eks::config::Builder::from(&self.sdk)
            .retry_classifier(retry::IamPropagation::<aws_sdk_eks::operation::create_cluster::CreateClusterError>::new())
            .retry_classifier(retry::IamPropagation::<aws_sdk_eks::operation::create_nodegroup::CreateNodegroupError>::new());
        if let Some(url) = self.endpoint("eks") {
            b = b.endpoint_url(url);
        }
        if self.read_only {
            b = b.interceptor(readonly::ReadOnly);
        }
        aws_sdk_eks::Client::from_conf(b.retry_classifier(retry::ThrottleWatch).build())
    }

    pub(crate) fn ssm(&self) -> aws_sdk_ssm::Client {
        let mut b = aws_sdk_ssm::config::Builder::from(&self.sdk);
        if let Some(url) = self.endpoint("ssm") {
            b = b.endpoint_url(url);
        }
        if self.read_only {
            b = b.interceptor(readonly::ReadOnly);
        }
        aws_sdk_ssm::Client::from_conf(b.retry_classifier(retry::ThrottleWatch).build())
    }

    pub(crate) fn kms(&self) -> aws_sdk_kms::Client {
        let mut b = aws_sdk_kms::config::Builder::from(&self.sdk);
        if let Some(url) = self.endpoint("kms") {
            b = b.endpoint_url(url);
        }
        if self.read_only {
            b = b.interceptor(readonly::ReadOnly);
        }
        aws_sdk_kms::Client::from_conf(b.retry_classifier(retry::ThrottleWatch).build())
    }

    pub(crate) fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        let mut b = aws_sdk_cloudwatchlogs::config::Builder::from(&self.sdk);
        if let Some(url) = self.endpoint("logs") {
            b = b.endpoint_url(url);
        }
        if self.read_only {
            b = b.interceptor(readonly::ReadOnly);
        }
        aws_sdk_cloudwatchlogs::Client::from_conf(b.retry_classifier(retry::ThrottleWatch).build())
    }

    pub(crate) fn elbv2(&self) -> aws_sdk_elasticloadbalancingv2::Client {
        let mut b = aws_sdk_elasticloadbalancingv2::config::Builder::from(&self.sdk);
        if let Some(url) = self.endpoint("elbv2") {
            b = b.endpoint_url(url);
        }
        if self.read_only {
            b = b.interceptor(readonly::ReadOnly);
        }
        aws_sdk_elasticloadbalancingv2::Client::from_conf(b.retry_classifier(retry::ThrottleWatch).build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secure_eks_core::model::AssumeRole;

    #[tokio::test]
    async fn debug_never_shows_a_credential() {
        let cfg = ProviderConfig {
            access_key: Some("AKIAEXAMPLEACCESSKEY".into()),
            secret_key: Some("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into()),
            token: Some("FwoGZXIvYXdzEXAMPLETOKEN".into()),
            assume_role: Some(AssumeRole { role_arn: "arn:aws:iam::123456789012:role/deploy".into(), session_name: None, external_id: Some("ext-id-EXAMPLE".into()) }),
            endpoints: Some([("sts".to_string(), "http://127.0.0.1:9".to_string())].into()),
            ..Default::default()
        };
        let aws = Aws::new(&cfg, "eu-west-1").await;
        let text = format!("{aws:?} {aws:#?}");
        for secret in ["AKIAEXAMPLEACCESSKEY", "wJalrXUtnFEMI", "FwoGZXIvYXdzEXAMPLETOKEN", "ext-id-EXAMPLE"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("eu-west-1"), "{text}");
    }
}
