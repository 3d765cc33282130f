//! SEKS-CFG-007: the provider configuration is usable: known endpoint services with http(s) URLs,
//! static credentials in pairs, a plausible region and 12-digit account ids.

use super::*;
use crate::model::{ProviderConfig, ENDPOINT_SERVICES};

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-CFG-007",
    title: "Provider configuration must be usable",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

fn fail(path: Path, problem: String, expected: &str, fix: String) -> (String, String) {
    let top = path.top().unwrap_or("").to_string();
    (top, message(&META, &Finding { path, problem, expected: expected.into(), fix }))
}

/// Check a decoded provider config. Returns `(property, message)` pairs. Secrets are never echoed.
pub fn check_provider_config(cfg: &ProviderConfig) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (svc, url) in cfg.endpoints.iter().flatten() {
        let p = Path::key("endpoints").k(svc.clone());
        if !ENDPOINT_SERVICES.contains(&svc.as_str()) {
            out.push(fail(
                p.clone(),
                format!("{svc:?} is not a service this provider calls"),
                "one of ec2, iam, eks, ssm, sts, kms, logs, elbv2",
                format!("remove {p} or correct the service name"),
            ));
        } else if !(url.starts_with("http://") || url.starts_with("https://")) {
            out.push(fail(
                p.clone(),
                format!("{url:?} is not an http(s) URL"),
                "a URL such as http://127.0.0.1:5000",
                format!("set {p} to a full URL with scheme"),
            ));
        }
    }
    if cfg.access_key.is_some() != cfg.secret_key.is_some() {
        let (have, missing) = if cfg.access_key.is_some() { ("accessKey", "secretKey") } else { ("secretKey", "accessKey") };
        out.push(fail(
            Path::key(missing),
            format!("{have} is set without {missing}"),
            "both static keys, or neither (then the standard credential chain is used)",
            format!("pulumi config set --secret secure-eks:{missing} <value>"),
        ));
    }
    if let Some(r) = &cfg.region {
        let ok = r.split('-').count() >= 3 && r.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            out.push(fail(
                Path::key("region"),
                format!("{r:?} is not an AWS region name"),
                "a region such as us-east-1",
                "pulumi config set secure-eks:region us-east-1".into(),
            ));
        }
    }
    for (i, a) in cfg.allowed_account_ids.iter().flatten().enumerate() {
        if a.len() != 12 || !a.chars().all(|c| c.is_ascii_digit()) {
            out.push(fail(
                Path::key("allowedAccountIds").i(i),
                format!("{a:?} is not a 12-digit account id"),
                "12 digits",
                "correct the account id".into(),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn run(cfg: ProviderConfig) -> String {
        let v = check_provider_config(&cfg);
        if v.is_empty() {
            return "pass".into();
        }
        v.into_iter().map(|(p, m)| format!("{p} | {m}")).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(ProviderConfig {
            region: Some("us-east-1".into()),
            endpoints: Some([("eks".to_string(), "http://127.0.0.1:5000".to_string())].into()),
            ..Default::default()
        }));
    }

    #[test]
    fn fail() {
        expect![[r#"
            endpoints | SEKS-CFG-007 [HIGH] endpoints.eks: "127.0.0.1:5000" is not an http(s) URL; expected a URL such as http://127.0.0.1:5000. Fix: set endpoints.eks to a full URL with scheme. Refs: none
            endpoints | SEKS-CFG-007 [HIGH] endpoints.s3: "s3" is not a service this provider calls; expected one of ec2, iam, eks, ssm, sts, kms, logs, elbv2. Fix: remove endpoints.s3 or correct the service name. Refs: none
            secretKey | SEKS-CFG-007 [HIGH] secretKey: accessKey is set without secretKey; expected both static keys, or neither (then the standard credential chain is used). Fix: pulumi config set --secret secure-eks:secretKey <value>. Refs: none
            region | SEKS-CFG-007 [HIGH] region: "Frankfurt" is not an AWS region name; expected a region such as us-east-1. Fix: pulumi config set secure-eks:region us-east-1. Refs: none
            allowedAccountIds | SEKS-CFG-007 [HIGH] allowedAccountIds[0]: "12" is not a 12-digit account id; expected 12 digits. Fix: correct the account id. Refs: none"#]].assert_eq(&run(ProviderConfig {
            region: Some("Frankfurt".into()),
            access_key: Some("AKIA-SECRET-NOT-ECHOED".into()),
            endpoints: Some([("eks".to_string(), "127.0.0.1:5000".to_string()), ("s3".to_string(), "http://x".to_string())].into()),
            allowed_account_ids: Some(vec!["12".into()]),
            ..Default::default()
        }));
    }

    #[test]
    fn unknown() {
        // Unknown config values never reach this check: the engine skips Configure and the
        // server defers CheckConfig validation of unknown keys.
        expect!["pass"].assert_eq(&run(ProviderConfig::default()));
    }
}
