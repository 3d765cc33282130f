//! Static facts the rules use: instance families, supported versions, leaked-Output text.
//! The static tables are the fast path; the executor may confirm them through AWS.

/// A CPU architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Arch {
    /// x86_64.
    X86_64,
    /// arm64 (Graviton).
    Arm64,
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        })
    }
}

/// The parts of an instance type's family: `m7gd.large` gives ("m", 7, "gd").
fn family_parts(instance_type: &str) -> Option<(&str, u32, &str)> {
    let family = instance_type.split('.').next()?;
    let letters_end = family.find(|c: char| c.is_ascii_digit())?;
    let rest = &family[letters_end..];
    let digits_end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let generation = rest[..digits_end].parse().ok()?;
    Some((&family[..letters_end], generation, &rest[digits_end..]))
}

/// The architecture of an instance type, from its family name: a `g` among the attribute letters
/// after the generation means Graviton (`m7g`, `c7gn`, `x2gd`), as does `a1`. `None` if unparsable.
pub fn instance_arch(instance_type: &str) -> Option<Arch> {
    let (series, _, attrs) = family_parts(instance_type)?;
    if series == "a" || attrs.contains('g') {
        Some(Arch::Arm64)
    } else {
        Some(Arch::X86_64)
    }
}

/// Families built on the Xen hypervisor (not Nitro): no prefix delegation, low ENI limits.
const NON_NITRO: [&str; 18] = [
    "t1", "t2", "m1", "m2", "m3", "m4", "c1", "c3", "c4", "r3", "r4", "x1", "x1e", "i2", "i3", "d2", "g3",
    "p2",
];

/// Whether an instance type runs on Nitro. `None` if unparsable. (`i3.metal` and `m4` are Xen; the
/// rule only needs the family.)
pub fn is_nitro(instance_type: &str) -> Option<bool> {
    let family = instance_type.split('.').next()?;
    family_parts(instance_type)?;
    if family == "i3" && instance_type.ends_with(".metal") {
        return Some(true);
    }
    Some(!NON_NITRO.contains(&family) && !matches!(family, "p3" | "h1" | "f1" | "hs1" | "cc2"))
}

/// The EKS Kubernetes versions this release knows, oldest first (standard or extended support).
pub const SUPPORTED_VERSIONS: [&str; 7] = ["1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36"];

/// Parse `"1.34"` into (1, 34).
pub fn parse_minor(v: &str) -> Option<(u32, u32)> {
    let mut it = v.trim().split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next()?.parse().ok()?;
    if it.next().is_some() {
        return None;
    }
    Some((major, minor))
}

/// Text that a Pulumi SDK writes when a program stringifies an Output instead of applying it.
pub const LEAKED_OUTPUT_MARKERS: [&str; 5] = [
    "Calling [toString] on an [Output<T>]",
    "Calling [toJSON] on an [Output<T>]",
    "Calling __str__ on an Output[T]",
    "[object Object]",
    "<pulumi.output.Output object at",
];

/// The first leaked-Output marker in `s`, if any.
pub fn leaked_output_marker(s: &str) -> Option<&'static str> {
    // Every marker has an `O` (Output, Object), and has `Output` or is `[object Object]`: a byte
    // scan and two searches rule out almost every string before the five searches (each costs
    // a searcher set-up).
    if !s.as_bytes().contains(&b'O') || !(s.contains("Output") || s.contains("[object Object]")) {
        return None;
    }
    LEAKED_OUTPUT_MARKERS.iter().copied().find(|m| s.contains(m))
}

/// Open-to-the-world CIDRs.
pub fn is_open_cidr(cidr: &str) -> bool {
    matches!(cidr.trim(), "0.0.0.0/0" | "::/0")
}

/// Show a user string in a message: quoted, or a placeholder when it is secret.
pub(crate) fn shown(ctx: &super::RuleCtx<'_>, path: &crate::value::Path, s: &str) -> String {
    if ctx.is_secret(path) {
        "(a secret value)".to_string()
    } else {
        format!("{s:?}")
    }
}

/// The entries of a string map input, including those whose value is unknown (the codec drops
/// them from the decoded map; their keys are known). `None` marks an unknown value.
pub(crate) fn map_entries<'a>(
    ctx: &super::RuleCtx<'_>,
    base: &crate::value::Path,
    map: Option<&'a std::collections::BTreeMap<String, String>>,
) -> Vec<(String, Option<&'a String>)> {
    let mut out: Vec<(String, Option<&'a String>)> = map.into_iter().flatten().map(|(k, v)| (k.clone(), Some(v))).collect();
    for u in ctx.annotations.unknowns_under(base) {
        if let ([.., crate::value::Seg::Key(k)], true) = (u.segments(), u.parent().as_ref() == Some(base)) {
            if !out.iter().any(|(x, _)| x == k) {
                out.push((k.clone(), None));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The finding with each of `values` (longest first) replaced by a placeholder in its text: for
/// findings about secret inputs whose messages mention the value or something derived from it.
pub(crate) fn redact(mut f: super::Finding, values: &[String]) -> super::Finding {
    let mut vals: Vec<&String> = values.iter().filter(|v| !v.is_empty()).collect();
    vals.sort_by_key(|v| std::cmp::Reverse(v.len()));
    for v in vals {
        for text in [&mut f.problem, &mut f.expected, &mut f.fix] {
            *text = text.replace(v.as_str(), "(secret)");
        }
    }
    f
}

// ---- IPv4 CIDRs (the block type and its arithmetic are the planner's) ----

use crate::plan::Ipv4Cidr;

/// Why a string is not a usable IPv4 CIDR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CidrError {
    /// Not of the form `a.b.c.d/n` with octets 0-255 and `n` 0-32.
    Syntax,
    /// Bits are set after the prefix; this is the network the user probably meant.
    HostBits(Ipv4Cidr),
}

fn prefix_mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    }
}

/// A dotted-quad IPv4 address (no leading zeros, which some parsers read as octal).
pub fn parse_ipv4(s: &str) -> Option<u32> {
    let mut addr = 0u32;
    let mut n = 0;
    for part in s.split('.') {
        let digits = !part.is_empty() && part.len() <= 3 && part.bytes().all(|b| b.is_ascii_digit());
        if !digits || (part.len() > 1 && part.starts_with('0')) {
            return None;
        }
        let octet: u32 = part.parse().ok()?;
        if octet > 255 {
            return None;
        }
        addr = (addr << 8) | octet;
        n += 1;
    }
    (n == 4).then_some(addr)
}

/// Parse `a.b.c.d/n` strictly (no spaces); a block with host bits set is an error that names the
/// network address.
pub fn parse_ipv4_cidr(s: &str) -> Result<Ipv4Cidr, CidrError> {
    let (ip, p) = s.split_once('/').ok_or(CidrError::Syntax)?;
    if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CidrError::Syntax);
    }
    let prefix: u8 = p.parse().map_err(|_| CidrError::Syntax)?;
    if prefix > 32 {
        return Err(CidrError::Syntax);
    }
    let addr = parse_ipv4(ip).ok_or(CidrError::Syntax)?;
    let net = Ipv4Cidr { addr: addr & prefix_mask(prefix), prefix };
    if net.addr == addr {
        Ok(net)
    } else {
        Err(CidrError::HostBits(net))
    }
}

/// The RFC 1918 private ranges: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16.
pub const RFC1918: [Ipv4Cidr; 3] = [
    Ipv4Cidr { addr: 0x0A00_0000, prefix: 8 },
    Ipv4Cidr { addr: 0xAC10_0000, prefix: 12 },
    Ipv4Cidr { addr: 0xC0A8_0000, prefix: 16 },
];

/// The shared address space 100.64.0.0/10 (RFC 6598), the usual home of EKS pod CIDRs.
pub const CGNAT: Ipv4Cidr = Ipv4Cidr { addr: 0x6440_0000, prefix: 10 };

/// The RFC 1918 range that holds `c`, if any.
pub fn rfc1918_range(c: &Ipv4Cidr) -> Option<Ipv4Cidr> {
    RFC1918.iter().copied().find(|r| r.contains(c))
}

/// The first token of `s` that is a CIDR with prefix length 0 (`0.0.0.0/0`, `::/0`, or any
/// `<address>/0`), which matches every address.
pub fn world_cidr_in(s: &str) -> Option<&str> {
    s.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':' || c == '/'))
        .find(|tok| {
            let Some(addr) = tok.strip_suffix("/0") else {
                return false;
            };
            parse_ipv4(addr).is_some()
                || (addr.contains(':') && addr.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.'))
        })
}

// ---- ARNs ----

/// The parts of an ARN, `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    pub partition: &'a str,
    /// The service, e.g. `iam`.
    pub service: &'a str,
    /// The region; empty for global services such as IAM.
    pub region: &'a str,
    /// The account id; `aws` for AWS managed IAM policies; may be empty.
    pub account: &'a str,
    /// The rest, e.g. `policy/path/name`.
    pub resource: &'a str,
}

/// Split an ARN into its parts. `None` unless it has all six parts, a partition of the form
/// `aws[-...]`, a service and a resource.
pub fn parse_arn(s: &str) -> Option<Arn<'_>> {
    let mut it = s.splitn(6, ':');
    if it.next()? != "arn" {
        return None;
    }
    let arn = Arn {
        partition: it.next()?,
        service: it.next()?,
        region: it.next()?,
        account: it.next()?,
        resource: it.next()?,
    };
    let partition_ok = arn
        .partition
        .strip_prefix("aws")
        .is_some_and(|rest| rest.is_empty() || (rest.starts_with('-') && rest.chars().all(|c| c.is_ascii_lowercase() || c == '-')));
    (partition_ok && !arn.service.is_empty() && !arn.resource.is_empty()).then_some(arn)
}

/// The partition of a region: `aws-cn` for `cn-*`, `aws-us-gov` for `us-gov-*`, `aws` for the
/// commercial regions; `None` for the isolated and sovereign partitions, which are not checked.
pub fn region_partition(region: &str) -> Option<&'static str> {
    if region.starts_with("cn-") {
        Some("aws-cn")
    } else if region.starts_with("us-gov-") {
        Some("aws-us-gov")
    } else if region.contains("-iso") || region.starts_with("eusc-") {
        None
    } else {
        Some("aws")
    }
}

/// A 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_name_path(s: &str) -> bool {
    !s.is_empty()
        && !s.ends_with('/')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
}

/// A KMS key ARN (`key/<id>`) or alias ARN (`alias/<name>`) with a region and an account.
pub fn is_kms_key_arn(a: &Arn<'_>) -> bool {
    let resource_ok = match a.resource.split_once('/') {
        Some(("key", id)) => !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
        Some(("alias", name)) => is_name_path(name),
        _ => false,
    };
    a.service == "kms" && !a.region.is_empty() && is_account_id(a.account) && resource_ok
}

/// An IAM policy ARN: `arn:<partition>:iam::<account or aws>:policy/<path/><name>`.
pub fn is_iam_policy_arn(a: &Arn<'_>) -> bool {
    a.service == "iam"
        && a.region.is_empty()
        && (is_account_id(a.account) || a.account == "aws")
        && a.resource.strip_prefix("policy/").is_some_and(is_name_path)
}

// ---- names and ids ----

/// A Kubernetes DNS-1123 label (namespaces): 1-63 of `[a-z0-9-]`, alphanumeric at both ends.
pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A Kubernetes DNS-1123 subdomain (service account names): at most 253 characters, dot-separated
/// parts of `[a-z0-9-]`, each alphanumeric at both ends.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|part| {
            !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

fn is_label_name(s: &str) -> bool {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    !s.is_empty()
        && s.len() <= 63
        && alnum(s.chars().next())
        && alnum(s.chars().last())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// A Kubernetes label key: `[<DNS-1123 subdomain>/]<name>`, the name 1-63 of `[A-Za-z0-9-_.]`,
/// alphanumeric at both ends.
pub fn is_label_key(s: &str) -> bool {
    match s.rsplit_once('/') {
        Some((prefix, name)) => is_dns1123_subdomain(prefix) && is_label_name(name),
        None => is_label_name(s),
    }
}

/// A Kubernetes label value: empty, or like a label name.
pub fn is_label_value(s: &str) -> bool {
    s.is_empty() || is_label_name(s)
}

/// An EC2 resource id: `<kind>-` and 8 to 17 lowercase hex digits (`subnet-0abc...`).
pub fn is_aws_id(s: &str, kind: &str) -> bool {
    s.strip_prefix(kind)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|hex| (8..=17).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

// ---- VPC endpoints ----

/// Endpoints secure-eks always creates: the interface endpoints nodes need, and the s3 gateway.
pub const ALWAYS_CREATED_ENDPOINTS: [&str; 6] = ["ec2", "ecr.api", "ecr.dkr", "logs", "sts", "s3"];

/// Interface endpoint services accepted in `network.extraEndpoints` (short names).
pub const EXTRA_ENDPOINTS: [&str; 17] = [
    "ssm",
    "ssmmessages",
    "ec2messages",
    "elasticloadbalancing",
    "autoscaling",
    "eks",
    "eks-auth",
    "sqs",
    "sns",
    "kms",
    "secretsmanager",
    "xray",
    "monitoring",
    "events",
    "execute-api",
    "elasticfilesystem",
    "ebs",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_of_common_types() {
        for (t, a) in [
            ("m7g.large", Arch::Arm64),
            ("c7gn.xlarge", Arch::Arm64),
            ("x2gd.medium", Arch::Arm64),
            ("t4g.small", Arch::Arm64),
            ("a1.large", Arch::Arm64),
            ("g5g.xlarge", Arch::Arm64),
            ("m7i.large", Arch::X86_64),
            ("g5.xlarge", Arch::X86_64),
            ("c6in.large", Arch::X86_64),
            ("m5.large", Arch::X86_64),
            ("inf2.xlarge", Arch::X86_64),
        ] {
            assert_eq!(instance_arch(t), Some(a), "{t}");
        }
        assert_eq!(instance_arch("nonsense"), None);
    }

    #[test]
    fn nitro_families() {
        assert_eq!(is_nitro("m5.large"), Some(true));
        assert_eq!(is_nitro("t2.micro"), Some(false));
        assert_eq!(is_nitro("m4.large"), Some(false));
        assert_eq!(is_nitro("i3.metal"), Some(true));
    }
    #[test]
    fn cidrs() {
        assert_eq!(parse_ipv4_cidr("10.0.0.0/16").map(|c| c.to_string()), Ok("10.0.0.0/16".to_string()));
        assert_eq!(parse_ipv4_cidr("10.0.0.1/16"), Err(CidrError::HostBits(Ipv4Cidr { addr: 0x0A00_0000, prefix: 16 })));
        for bad in ["10.0.0.0", "10.0.0/16", "10.0.0.0/33", "10.0.0.256/24", "010.0.0.0/8", " 10.0.0.0/16", "10.0.0.0/+8", "a.b.c.d/8"] {
            assert_eq!(parse_ipv4_cidr(bad), Err(CidrError::Syntax), "{bad}");
        }
        let pod = parse_ipv4_cidr("100.64.0.0/16").unwrap();
        assert!(CGNAT.contains(&pod));
        assert_eq!(rfc1918_range(&parse_ipv4_cidr("172.20.0.0/16").unwrap()).map(|c| c.to_string()), Some("172.16.0.0/12".into()));
        assert_eq!(rfc1918_range(&pod), None);
        assert_eq!(world_cidr_in("allow 10.0.0.0/8,0.0.0.0/0"), Some("0.0.0.0/0"));
        assert_eq!(world_cidr_in("[\"::/0\"]"), Some("::/0"));
        assert_eq!(world_cidr_in("10.1.2.3/0"), Some("10.1.2.3/0"));
        assert_eq!(world_cidr_in("10.0.0.0/16 and 100.64.0.0/10"), None);
        assert_eq!(world_cidr_in("ratio 3/0"), None);
    }

    #[test]
    fn arns() {
        let k = parse_arn("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab").unwrap();
        assert!(is_kms_key_arn(&k));
        assert!(is_kms_key_arn(&parse_arn("arn:aws-us-gov:kms:us-gov-west-1:123456789012:alias/eks").unwrap()));
        assert!(!is_kms_key_arn(&parse_arn("arn:aws:kms:us-east-1:1234:key/x").unwrap()));
        assert!(is_iam_policy_arn(&parse_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess").unwrap()));
        assert!(is_iam_policy_arn(&parse_arn("arn:aws-cn:iam::123456789012:policy/team/app-read").unwrap()));
        assert!(!is_iam_policy_arn(&parse_arn("arn:aws:iam::123456789012:role/app").unwrap()));
        assert_eq!(parse_arn("arn:amazon:iam::aws:policy/x"), None);
        assert_eq!(parse_arn("arn:aws:iam::aws"), None);
        assert_eq!(region_partition("cn-north-1"), Some("aws-cn"));
        assert_eq!(region_partition("us-gov-west-1"), Some("aws-us-gov"));
        assert_eq!(region_partition("us-isob-east-1"), None);
        assert_eq!(region_partition("eu-west-1"), Some("aws"));
    }

    #[test]
    fn names_and_ids() {
        assert!(is_dns1123_label("kube-system"));
        assert!(!is_dns1123_label("Kube"));
        assert!(!is_dns1123_label("-a"));
        assert!(!is_dns1123_label(&"a".repeat(64)));
        assert!(is_dns1123_subdomain("ebs-csi.controller"));
        assert!(!is_dns1123_subdomain("a..b"));
        assert!(!is_dns1123_subdomain("*"));
        assert!(is_label_key("example.com/role"));
        assert!(is_label_key("Role_1.x"));
        assert!(!is_label_key("example.com/"));
        assert!(!is_label_key("Example.com/role"));
        assert!(!is_label_key("has space"));
        assert!(is_label_value(""));
        assert!(!is_label_value("-x"));
        assert!(is_aws_id("subnet-0123456789abcdef0", "subnet"));
        assert!(is_aws_id("vpc-1a2b3c4d", "vpc"));
        assert!(!is_aws_id("subnet-0123456", "subnet"));
        assert!(!is_aws_id("subnet-0123456789ABCDEF0", "subnet"));
        assert!(!is_aws_id("sg-0123456789abcdef0", "subnet"));
    }

    #[test]
    fn every_leaked_output_marker_is_found() {
        // leaked_output_marker skips strings without an `O`, `Output` or `[object Object]`; a
        // marker without them would be missed.
        for m in LEAKED_OUTPUT_MARKERS {
            assert_eq!(leaked_output_marker(&format!("x {m} y")), Some(m));
        }
        assert_eq!(leaked_output_marker("plain text"), None);
    }
}
