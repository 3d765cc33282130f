//! Names derived from the cluster name, and the ownership tag.
//!
//! AWS limits: an EKS cluster name is 1-100 characters matching `^[0-9A-Za-z][A-Za-z0-9\-_]*`
//! (EKS CreateCluster, `name`); an IAM role name is at most 64 characters of `[\w+=,.@-]` (IAM
//! CreateRole, `RoleName`); a launch template name at most 128 of `[a-zA-Z0-9().\-/_]` (EC2
//! CreateLaunchTemplate). A derived name that would be longer is shortened by [`fit`] with a
//! stable hash of the whole name, never by cutting alone, so two long names never collide.
//!
//! IAM is global, so role names must differ for two clusters of the same name in two regions or
//! two stacks: a new cluster's roles carry a hash of its *owner* ([`owner_id`]: the cluster name,
//! the region and the resource's URN), the value of the `secure-eks:cluster` tag on everything it
//! creates. The owner is recorded in the outputs (`owner`) and read back from there, so it never
//! changes for an existing cluster (not even after a stack rename). Stacks created before owners
//! existed have none recorded; they keep the cluster name as owner and their role names.

use sha2::{Digest, Sha256};

/// EKS: the longest cluster name.
pub const CLUSTER_NAME_MAX: usize = 100;
/// IAM: the longest role name.
pub const IAM_ROLE_NAME_MAX: usize = 64;
/// EC2: the longest launch template name.
pub const LAUNCH_TEMPLATE_NAME_MAX: usize = 128;
/// Hex digits of the hash [`fit`] puts into a shortened name (40 bits).
const FIT_HASH_LEN: usize = 10;
/// Hex digits of the owner hash in role names.
const OWNER_HASH_LEN: usize = 8;

fn sha_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

/// Whether `name` is a valid EKS cluster name (1-100 characters, `^[0-9A-Za-z][A-Za-z0-9\-_]*`).
pub fn valid_cluster_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= CLUSTER_NAME_MAX
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `base + suffix` when it has at most `max` characters; else as much of `base` as fits, a `.`,
/// [`FIT_HASH_LEN`] hex digits of a hash of both, and `suffix` (exactly `max` characters). The
/// `.` never occurs in a cluster name, so a shortened name never equals one that was not
/// shortened; two shortened names differ unless the 40-bit hashes collide.
pub fn fit(base: &str, suffix: &str, max: usize) -> String {
    if base.len() + suffix.len() <= max {
        return format!("{base}{suffix}");
    }
    let hash = sha_hex(&[base, suffix]);
    let hash = &hash[..FIT_HASH_LEN];
    let room = max.saturating_sub(suffix.len() + 1 + FIT_HASH_LEN);
    if room == 0 {
        // A suffix too long to keep (never the case for the planner's suffixes).
        let all = sha_hex(&[base, suffix]);
        return all[..max.min(all.len())].to_string();
    }
    let mut cut = room.min(base.len());
    while !base.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}.{hash}{suffix}", &base[..cut])
}

/// The owner of a cluster created now: `<cluster>@<region>/<hash>`, the hash covering the
/// cluster name, the region and `scope` (the resource's URN: stack, project and resource name).
/// At most 100 + 1 + region + 1 + 10 characters, within every service's tag value limit (256), and
/// made only of characters IAM tag values allow (letters, digits, `_ . : / = + - @`).
pub fn owner_id(scope: &str, region: &str, cluster: &str) -> String {
    let h = sha_hex(&[scope, region, cluster]);
    format!("{cluster}@{region}/{}", &h[..FIT_HASH_LEN])
}

/// The owner to use: the one recorded in the outputs; else, for a stack that already has AWS
/// resources recorded but no owner (made before owners existed), the cluster name; else (a new
/// cluster, or a create that stopped before anything was recorded) [`owner_id`].
pub fn resolve_owner(recorded: Option<&str>, has_prior_resources: bool, scope: &str, region: &str, cluster: &str) -> String {
    match recorded.filter(|r| owned_by_cluster(r, cluster)) {
        Some(r) => r.to_string(),
        None if has_prior_resources => cluster.to_string(),
        None => owner_id(scope, region, cluster),
    }
}

/// Whether an ownership tag value belongs to cluster `cluster` (the plain name of a stack made
/// before owners existed, or an [`owner_id`] of that name).
pub fn owned_by_cluster(tag: &str, cluster: &str) -> bool {
    tag == cluster || tag.strip_prefix(cluster).is_some_and(|rest| rest.starts_with('@'))
}

/// The common head of the cluster's IAM role names: the cluster name, plus a hash of the owner
/// unless the owner is the plain cluster name (an existing stack keeps its role names).
pub fn iam_base(cluster: &str, owner: &str) -> String {
    if owner == cluster {
        cluster.to_string()
    } else {
        format!("{cluster}-{}", &sha_hex(&[owner])[..OWNER_HASH_LEN])
    }
}

/// An IAM role name: `<iam_base>-<what>`, shortened to 64 characters.
pub fn role_name(cluster: &str, owner: &str, what: &str) -> String {
    fit(&iam_base(cluster, owner), &format!("-{what}"), IAM_ROLE_NAME_MAX)
}

/// A launch template name: `<cluster>-<node group>`, shortened to 128 characters.
pub fn launch_template_name(cluster: &str, node_group: &str) -> String {
    fit(cluster, &format!("-{node_group}"), LAUNCH_TEMPLATE_NAME_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_names_are_kept() {
        assert_eq!(fit("demo", "-node", 64), "demo-node");
        assert_eq!(role_name("demo", "demo", "cluster"), "demo-cluster");
    }

    #[test]
    fn owners() {
        let a = owner_id("urn:pulumi:dev::p::secure-eks:index:SecureEksCluster::c", "us-east-1", "demo");
        let b = owner_id("urn:pulumi:dev::p::secure-eks:index:SecureEksCluster::c", "eu-west-1", "demo");
        let c = owner_id("urn:pulumi:prod::p::secure-eks:index:SecureEksCluster::c", "us-east-1", "demo");
        assert!(a.starts_with("demo@us-east-1/"), "{a}");
        assert!(a != b && a != c && b != c);
        assert!(owned_by_cluster(&a, "demo") && owned_by_cluster("demo", "demo"));
        assert!(!owned_by_cluster(&a, "dem") && !owned_by_cluster("demo2", "demo"));
        assert_ne!(role_name("demo", &a, "node"), role_name("demo", &b, "node"));
        // Recorded wins; a legacy stack keeps the name; a new one gets a scoped owner.
        assert_eq!(resolve_owner(Some(&a), true, "other", "eu-west-1", "demo"), a);
        assert_eq!(resolve_owner(None, true, "s", "us-east-1", "demo"), "demo");
        assert_eq!(resolve_owner(None, false, "s", "us-east-1", "demo"), owner_id("s", "us-east-1", "demo"));
        // A recorded owner of another cluster name (the name changed: a replacement) is not reused.
        assert_eq!(resolve_owner(Some("old@us-east-1/0123456789"), false, "s", "us-east-1", "demo"), owner_id("s", "us-east-1", "demo"));
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || "_.:/=+-@".contains(c)));
    }

    #[test]
    fn long_names_get_a_stable_hash() {
        let long = "a".repeat(100);
        let n = role_name(&long, &long, "cluster-autoscaler");
        assert_eq!(n.len(), 64);
        assert!(n.ends_with("-cluster-autoscaler"), "{n}");
        assert_eq!(n, role_name(&long, &long, "cluster-autoscaler"));
        expect_test::expect!["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.f9bbce2069-cluster-autoscaler"].assert_eq(&n);
    }

    fn cluster_name() -> impl Strategy<Value = String> {
        "[0-9A-Za-z][A-Za-z0-9_-]{0,99}"
    }

    proptest! {
        #[test]
        fn fit_respects_the_limit_and_never_collides(a in cluster_name(), b in cluster_name(), what in "(cluster|node|cluster-autoscaler|sa-[0-9]{1,2})") {
            for (x, max) in [(role_name(&a, &a, &what), IAM_ROLE_NAME_MAX), (launch_template_name(&a, &what), LAUNCH_TEMPLATE_NAME_MAX)] {
                prop_assert!(x.len() <= max, "{x}");
                prop_assert!(x.ends_with(&format!("-{what}")), "{x}");
            }
            prop_assert_eq!(role_name(&a, &a, &what), role_name(&a, &a, &what));
            if a != b {
                prop_assert_ne!(role_name(&a, &a, &what), role_name(&b, &b, &what));
                prop_assert_ne!(launch_template_name(&a, &what), launch_template_name(&b, &what));
                let (oa, ob) = (owner_id("s", "us-east-1", &a), owner_id("s", "us-east-1", &b));
                prop_assert_ne!(role_name(&a, &oa, &what), role_name(&b, &ob, &what));
            }
            // The same name in two regions: different roles.
            let (e, w) = (owner_id("s", "us-east-1", &a), owner_id("s", "us-west-2", &a));
            prop_assert_ne!(role_name(&a, &e, &what), role_name(&a, &w, &what));
        }

        #[test]
        fn names_that_differ_only_after_the_cut_still_differ(stem in "[a-z]{70}", x in "[a-z0-9]{1,20}", y in "[a-z0-9]{1,20}") {
            prop_assume!(x != y);
            let (a, b) = (format!("{stem}{x}"), format!("{stem}{y}"));
            prop_assert_ne!(role_name(&a, &a, "node"), role_name(&b, &b, "node"));
        }
    }
}
