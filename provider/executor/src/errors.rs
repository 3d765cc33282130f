//! AWS errors as a person reads them: one line of what went wrong, one line of what to do, and
//! no `Debug` dump of SDK structs. The full chain goes to the provider's log (`-v=9
//! --logtostderr`).

use std::error::Error;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_types::error::ErrorMetadata;

/// What kind of failure an error chain is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// No credentials anywhere in the chain.
    NoCredentials,
    /// The named profile does not exist.
    UnknownProfile,
    /// An SSO session or a session token has expired.
    Expired,
    /// AWS does not know the credentials.
    BadCredentials,
    /// The caller may not call this action.
    AccessDenied,
    /// Throttled until the retries ran out.
    Throttled,
    /// The endpoint could not be reached.
    Unreachable,
    /// Anything else.
    Other,
}

/// The parts of an error chain that matter: the service's code and message, and the Display
/// text of every link (never `Debug`).
struct Chain {
    code: Option<String>,
    message: Option<String>,
    texts: Vec<String>,
    credentials: Option<&'static str>,
}

fn walk(e: &(dyn Error + 'static)) -> Chain {
    let mut c = Chain { code: None, message: None, texts: Vec::new(), credentials: None };
    let mut cur: Option<&(dyn Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(m) = err.downcast_ref::<ErrorMetadata>() {
            c.code = c.code.take().or_else(|| m.code().map(String::from));
            c.message = c.message.take().or_else(|| m.message().map(String::from));
        } else {
            c.texts.push(err.to_string());
        }
        if let Some(ce) = err.downcast_ref::<CredentialsError>() {
            c.credentials = c.credentials.or(Some(match ce {
                CredentialsError::CredentialsNotLoaded(_) => "not-loaded",
                CredentialsError::ProviderTimedOut(_) => "timed-out",
                CredentialsError::InvalidConfiguration(_) => "invalid-configuration",
                _ => "provider-error",
            }));
        }
        cur = err.source();
    }
    // A modeled error (e.g. `ResourceNotFoundException`) carries no ErrorMetadata link: its
    // Display is `Name: message` or `Name [Code]: message`.
    if c.code.is_none() {
        for t in &c.texts {
            let (head, rest) = match t.split_once(": ") {
                Some((h, r)) => (h, Some(r)),
                None => (t.as_str(), None),
            };
            let (name, bracket) = match head.split_once(" [") {
                Some((n, b)) => (n, b.strip_suffix(']')),
                None => (head, None),
            };
            let looks_like_code = |s: &str| s.len() > 3 && s.starts_with(|ch: char| ch.is_ascii_uppercase()) && s.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '.');
            if looks_like_code(name) && (name.ends_with("Exception") || bracket.is_some()) {
                c.code = Some(bracket.filter(|b| looks_like_code(b)).unwrap_or(name).to_string());
                c.message = rest.map(String::from);
                break;
            }
        }
    }
    c
}

const ACCESS_DENIED: [&str; 6] = ["AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess", "AuthorizationError", "NotAuthorized"];
const EXPIRED: [&str; 4] = ["ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"];
const BAD_CREDENTIALS: [&str; 5] = ["InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "AuthFailure", "InvalidSignatureException"];
const THROTTLED: [&str; 7] = ["Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded", "TooManyRequestsException", "RequestThrottled", "SlowDown"];

fn classify(c: &Chain) -> Kind {
    let code = c.code.as_deref().unwrap_or("");
    let all = c.texts.join(": ").to_ascii_lowercase();
    if ACCESS_DENIED.contains(&code) {
        Kind::AccessDenied
    } else if EXPIRED.contains(&code) || (all.contains("expired") && (all.contains("token") || all.contains("sso") || all.contains("session"))) {
        Kind::Expired
    } else if BAD_CREDENTIALS.contains(&code) {
        Kind::BadCredentials
    } else if THROTTLED.contains(&code) {
        Kind::Throttled
    } else if all.contains("profile") && (all.contains("not defined") || all.contains("not found") || all.contains("could not find") || all.contains("does not exist")) {
        Kind::UnknownProfile
    } else if c.credentials == Some("not-loaded") || all.contains("no providers in chain provided credentials") || all.contains("credential provider was not enabled") {
        Kind::NoCredentials
    } else if code.is_empty()
        && (all.contains("dispatch failure") || all.contains("connection refused") || all.contains("dns error") || all.contains("timed out") || all.contains("connect"))
    {
        Kind::Unreachable
    } else {
        Kind::Other
    }
}

/// The kind of an AWS error.
pub fn kind_of(e: &(dyn Error + 'static)) -> Kind {
    classify(&walk(e))
}

/// The innermost link worth showing, without the SDK's wrappers ("dispatch failure", "service
/// error", "unhandled error (X)").
fn cause(c: &Chain) -> String {
    let wrappers = ["dispatch failure", "service error", "response error", "io error", "failed to construct request", "request has timed out"];
    c.texts
        .iter()
        .rev()
        .find(|t| !t.is_empty() && !wrappers.contains(&t.as_str()) && !t.starts_with("unhandled error"))
        .cloned()
        .unwrap_or_else(|| c.texts.join(": "))
}

/// One line of what went wrong, then `Fix:` and what to do.
pub fn describe(e: &(dyn Error + 'static)) -> String {
    tracing::debug!(error = %aws_smithy_types::error::display::DisplayErrorContext(e), "AWS error chain");
    let c = walk(e);
    let message = c.message.clone().unwrap_or_default();
    let (what, fix) = match classify(&c) {
        Kind::NoCredentials => (
            "no AWS credentials were found (no profile, environment variables, SSO session or instance role)".to_string(),
            "sign in (`aws sso login --profile <name>` or `aws configure`), then set secure-eks:profile (or AWS_PROFILE), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".to_string(),
        ),
        Kind::UnknownProfile => (
            format!("the AWS profile is not defined ({})", cause(&c)),
            "fix secure-eks:profile (or AWS_PROFILE) to a profile in ~/.aws/config or ~/.aws/credentials (`aws configure list-profiles` lists them)".to_string(),
        ),
        Kind::Expired => (
            format!("the AWS session has expired ({})", if message.is_empty() { cause(&c) } else { message }),
            "sign in again (`aws sso login --profile <name>`), or get fresh session credentials, then rerun".to_string(),
        ),
        Kind::BadCredentials => (
            format!("AWS does not accept these credentials ({}{})", c.code.clone().unwrap_or_default(), if message.is_empty() { String::new() } else { format!(": {message}") }),
            "check the access key and secret key (or the profile) belong to an active IAM user or role".to_string(),
        ),
        Kind::AccessDenied => (
            format!("access denied: {}", if message.is_empty() { c.code.clone().unwrap_or_default() } else { message }),
            "allow this action for the deploying principal (docs/deployer-policy.json lists every action secure-eks calls); if the message names a policy (an SCP, a boundary, an explicit deny), that policy must change".to_string(),
        ),
        Kind::Throttled => (
            format!("AWS kept throttling the calls and the retries ran out ({})", c.code.clone().unwrap_or_default()),
            "rerun in a few minutes (`pulumi up` resumes where it stopped); other automation in the account shares these API rate limits".to_string(),
        ),
        Kind::Unreachable => (
            format!("the AWS endpoint could not be reached ({})", cause(&c)),
            "check the network connection and proxy settings, and any secure-eks:endpoints overrides".to_string(),
        ),
        Kind::Other => match (&c.code, message.is_empty()) {
            (Some(code), false) => (format!("{code}: {message}"), "see the message; `pulumi up -v=9 --logtostderr` shows the full error chain".to_string()),
            (Some(code), true) => (code.clone(), "`pulumi up -v=9 --logtostderr` shows the full error chain".to_string()),
            (None, _) => (cause(&c), "`pulumi up -v=9 --logtostderr` shows the full error chain".to_string()),
        },
    };
    format!("{what}\nFix: {fix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrap(&'static str, Option<Box<dyn Error + 'static>>);
    impl std::fmt::Display for Wrap {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl Error for Wrap {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref()
        }
    }

    fn service(code: &str, message: &str) -> Wrap {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        Wrap("service error", Some(Box::new(Wrap("unhandled error", Some(Box::new(meta))))))
    }

    #[test]
    fn access_denied_names_the_action_and_the_policy_and_never_debug_prints() {
        let e = service("AccessDenied", "User: arn:aws:sts::123456789012:assumed-role/dev/x is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::123456789012:role/r with an explicit deny in a service control policy");
        let d = describe(&e);
        assert_eq!(d.lines().count(), 2, "{d}");
        assert!(d.starts_with("access denied: User: ") && d.contains("iam:CreateRole") && d.contains("service control policy"), "{d}");
        assert!(d.lines().nth(1).unwrap().starts_with("Fix: "), "{d}");
        assert!(!d.contains("Error {"), "{d}");
    }

    #[test]
    fn each_kind_is_told_apart() {
        assert_eq!(kind_of(&service("ExpiredToken", "The security token included in the request is expired")), Kind::Expired);
        assert_eq!(kind_of(&service("InvalidClientTokenId", "The security token included in the request is invalid.")), Kind::BadCredentials);
        assert_eq!(kind_of(&service("ThrottlingException", "Rate exceeded")), Kind::Throttled);
        assert_eq!(kind_of(&service("ResourceInUseException", "busy")), Kind::Other);
        // Modeled errors: no ErrorMetadata link, the code is in their Display.
        let modeled = Wrap("service error", Some(Box::new(Wrap("AccessDeniedException: User: x is not authorized to perform: eks:DescribeCluster", None))));
        assert_eq!(kind_of(&modeled), Kind::AccessDenied);
        let iam = Wrap("service error", Some(Box::new(Wrap("NoSuchEntityException [NoSuchEntity]: The role with name x cannot be found.", None))));
        assert_eq!(describe(&iam).lines().next(), Some("NoSuchEntity: The role with name x cannot be found."));
        let refused = Wrap("dispatch failure", Some(Box::new(Wrap("io error", Some(Box::new(Wrap("tcp connect error: Connection refused (os error 111)", None)))))));
        assert_eq!(kind_of(&refused), Kind::Unreachable);
        assert!(describe(&refused).starts_with("the AWS endpoint could not be reached (tcp connect error: Connection refused (os error 111))"), "{}", describe(&refused));
        let none = Wrap("dispatch failure", Some(Box::new(Wrap("other", Some(Box::new(CredentialsError::not_loaded("no providers in chain provided credentials")))))));
        assert_eq!(kind_of(&none), Kind::NoCredentials);
        let sso = Wrap("dispatch failure", Some(Box::new(Wrap("other", Some(Box::new(CredentialsError::provider_error("the SSO session has expired or is invalid")))))));
        assert_eq!(kind_of(&sso), Kind::Expired);
        let profile = Wrap("dispatch failure", Some(Box::new(Wrap("other", Some(Box::new(CredentialsError::invalid_configuration("ProfileFile provider could not be built: profile `nope` was not defined")))))));
        assert_eq!(kind_of(&profile), Kind::UnknownProfile);
    }
}
