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
    LEAKED_OUTPUT_MARKERS.iter().copied().find(|m| s.contains(m))
}

/// Open-to-the-world CIDRs.
pub fn is_open_cidr(cidr: &str) -> bool {
    matches!(cidr.trim(), "0.0.0.0/0" | "::/0")
}

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
}
