//! What differs between what AWS describes and what the plan asks for: pure comparisons used by
//! the steps to converge adopted resources, so that an apply with nothing to change makes no
//! mutating call. No IO here.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_eks::types::{LogSetup, LogType, Logging, VpcConfigRequest, VpcConfigResponse};
use secure_eks_core::plan::{effective_public_cidrs, ClusterAction};

/// `1.34` → `(1, 34)`.
pub(crate) fn parse_minor(v: &str) -> Option<(u32, u32)> {
    let mut it = v.trim().split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next()?.parse().ok()?;
    Some((major, minor))
}

/// The Kubernetes version to upgrade the cluster to: `None` when it already runs `want`, the
/// version when `want` is the next minor, an explanation when EKS cannot get there in one update
/// (a downgrade, or a jump of more than one minor version).
pub(crate) fn version_step(current: &str, want: &str) -> Result<Option<String>, String> {
    if current == want {
        return Ok(None);
    }
    let (Some(cur), Some(new)) = (parse_minor(current), parse_minor(want)) else {
        return Err(format!("cannot compare the cluster's Kubernetes version {current:?} with kubernetesVersion {want:?}"));
    };
    match new.cmp(&cur) {
        Ordering::Equal => Ok(None),
        Ordering::Less => Err(format!(
            "kubernetesVersion {want} is older than the cluster's {current}: EKS cannot downgrade a cluster; set kubernetesVersion back to \"{current}\""
        )),
        Ordering::Greater if new.0 == cur.0 && new.1 == cur.1 + 1 => Ok(Some(want.to_string())),
        Ordering::Greater => Err(format!(
            "kubernetesVersion cannot go from {current} to {want} in one update: EKS upgrades one minor version at a time; set \"{}.{}\", run pulumi up, then continue",
            cur.0,
            cur.1 + 1
        )),
    }
}

/// The endpoint access change to make, if the described access differs from the plan. CIDRs only
/// count while the public endpoint is (to be) on.
pub(crate) fn endpoint_change(desc: Option<&VpcConfigResponse>, ca: &ClusterAction) -> Option<VpcConfigRequest> {
    let same = desc.is_some_and(|d| {
        d.endpoint_private_access() == ca.private_access
            && d.endpoint_public_access() == ca.public_access
            && (!ca.public_access || effective_public_cidrs(d.public_access_cidrs()) == effective_public_cidrs(&ca.public_cidrs))
    });
    if same {
        return None;
    }
    let mut req = VpcConfigRequest::builder().endpoint_private_access(ca.private_access).endpoint_public_access(ca.public_access);
    if ca.public_access {
        req = req.set_public_access_cidrs(Some(effective_public_cidrs(&ca.public_cidrs).into_iter().collect()));
    }
    Some(req.build())
}

/// The enabled control-plane log types, as described.
pub(crate) fn enabled_log_types(desc: Option<&Logging>) -> BTreeSet<String> {
    desc.map(|l| l.cluster_logging())
        .unwrap_or_default()
        .iter()
        .filter(|s| s.enabled() == Some(true))
        .flat_map(|s| s.types().iter().map(|t| t.as_str().to_string()))
        .collect()
}

/// The logging change to make, if the enabled types differ from the plan: the planned types on,
/// every other known type off.
pub(crate) fn logging_change(desc: Option<&Logging>, want: &[String]) -> Option<Logging> {
    let want: BTreeSet<String> = want.iter().cloned().collect();
    if enabled_log_types(desc) == want {
        return None;
    }
    let off: Vec<LogType> = LogType::values().iter().filter(|t| !want.contains(**t)).map(|t| LogType::from(*t)).collect();
    let mut setups = Vec::new();
    if !want.is_empty() {
        setups.push(LogSetup::builder().set_types(Some(want.iter().map(|t| LogType::from(t.as_str())).collect())).enabled(true).build());
    }
    if !off.is_empty() {
        setups.push(LogSetup::builder().set_types(Some(off)).enabled(false).build());
    }
    Some(Logging::builder().set_cluster_logging(Some(setups)).build())
}

/// Labels to add or change, and label keys to remove.
pub(crate) fn label_changes(current: Option<&HashMap<String, String>>, want: &BTreeMap<String, String>) -> (BTreeMap<String, String>, Vec<String>) {
    let empty = HashMap::new();
    let current = current.unwrap_or(&empty);
    let add = want.iter().filter(|(k, v)| current.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut remove: Vec<String> = current.keys().filter(|k| !want.contains_key(*k)).cloned().collect();
    remove.sort();
    (add, remove)
}

/// A taint as `(key, value, effect)`, the effect in the EKS API spelling (`NO_SCHEDULE`, ...).
pub(crate) type TaintSpec = (String, Option<String>, String);

/// Taints to add or change, and taints to remove. A taint is identified by key and effect (as in
/// Kubernetes); a new value for the same key and effect is a change, not a removal.
pub(crate) fn taint_changes(current: &[TaintSpec], want: &[TaintSpec]) -> (Vec<TaintSpec>, Vec<TaintSpec>) {
    let norm = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let add = want.iter().filter(|w| !current.iter().any(|c| c.0 == w.0 && c.2 == w.2 && norm(&c.1) == norm(&w.1))).cloned().collect();
    let remove = current.iter().filter(|c| !want.iter().any(|w| w.0 == c.0 && w.2 == c.2)).cloned().collect();
    (add, remove)
}

/// The scaling config to set, if it differs: `(min, desired, max)`.
///
/// The desired size belongs to the cluster autoscaler once the group runs, so it is set only when
/// the planned desired size changed since the last apply (`last_planned`, recorded in the step
/// output) or when there is no record; otherwise the running size is kept, moved into the new
/// `[min, max]` if it falls outside.
pub(crate) fn scaling_change(current: (i32, i32, i32), want: (i32, i32, i32), last_planned: Option<i32>) -> Option<(i32, i32, i32)> {
    let (min, want_desired, max) = want;
    let desired = if last_planned == Some(want_desired) { current.1 } else { want_desired };
    let desired = desired.clamp(min, max.max(min));
    let target = (min, desired, max);
    (target != current).then_some(target)
}

/// Numeric parts of an addon version (`v1.19.2-eksbuild.1` → `[1, 19, 2, 1]`).
fn version_parts(v: &str) -> Vec<u64> {
    v.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty()).filter_map(|p| p.parse().ok()).collect()
}

/// Compare two addon versions by their numeric parts.
pub(crate) fn addon_version_cmp(a: &str, b: &str) -> Ordering {
    version_parts(a).cmp(&version_parts(b))
}

fn json_or_none(s: Option<&str>) -> Option<serde_json::Value> {
    let s = s.map(str::trim).filter(|s| !s.is_empty())?;
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(serde_json::Value::Object(m)) if m.is_empty() => None,
        Ok(serde_json::Value::Null) => None,
        Ok(v) => Some(v),
        // Not JSON (EKS also takes YAML): compare as text.
        Err(_) => Some(serde_json::Value::String(s.to_string())),
    }
}

/// Whether two addon configuration values mean the same (absent, empty and `{}` are equal).
pub(crate) fn same_configuration(described: Option<&str>, want: Option<&str>) -> bool {
    json_or_none(described) == json_or_none(want)
}

/// Decode `%XX` escapes (IAM returns policy documents URL-encoded). `None` if malformed.
pub(crate) fn url_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Whether a policy document IAM returned (URL-encoded, or not) means the same JSON as `want`.
pub(crate) fn same_policy(described: Option<&str>, want: &str) -> bool {
    let Ok(want) = serde_json::from_str::<serde_json::Value>(want) else { return false };
    let Some(d) = described else { return false };
    let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).ok();
    parse(d).or_else(|| url_decode(d).as_deref().and_then(parse)).is_some_and(|d| d == want)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca(private: bool, public: bool, cidrs: &[&str]) -> ClusterAction {
        ClusterAction {
            name: "c".into(),
            version: "1.34".into(),
            private_access: private,
            public_access: public,
            public_cidrs: cidrs.iter().map(|s| s.to_string()).collect(),
            log_types: vec![],
            subnets: vec![],
            settings: Default::default(),
        }
    }

    #[test]
    fn versions_go_up_one_minor_at_a_time() {
        assert_eq!(version_step("1.34", "1.34"), Ok(None));
        assert_eq!(version_step("1.34", "1.35"), Ok(Some("1.35".into())));
        let jump = version_step("1.33", "1.35").unwrap_err();
        assert!(jump.contains("one minor version at a time") && jump.contains("\"1.34\""), "{jump}");
        let down = version_step("1.35", "1.34").unwrap_err();
        assert!(down.contains("cannot downgrade") && down.contains("\"1.35\""), "{down}");
        assert!(version_step("", "1.34").is_err());
    }

    #[test]
    fn endpoint_changes_only_when_access_differs() {
        let d = VpcConfigResponse::builder().endpoint_private_access(true).endpoint_public_access(false).public_access_cidrs("0.0.0.0/0").build();
        assert!(endpoint_change(Some(&d), &ca(true, false, &[])).is_none());
        // CIDRs do not matter while the public endpoint stays off.
        assert!(endpoint_change(Some(&d), &ca(true, false, &["203.0.113.0/24"])).is_none());
        let r = endpoint_change(Some(&d), &ca(true, true, &["203.0.113.0/24"])).unwrap();
        assert_eq!((r.endpoint_private_access(), r.endpoint_public_access()), (Some(true), Some(true)));
        assert_eq!(r.public_access_cidrs(), ["203.0.113.0/24"]);
        let on = VpcConfigResponse::builder().endpoint_private_access(true).endpoint_public_access(true).public_access_cidrs("203.0.113.0/24").build();
        assert!(endpoint_change(Some(&on), &ca(true, true, &["203.0.113.0/24"])).is_none());
        // Dropping the CIDR list opens the endpoint to the default, which is a change.
        assert_eq!(endpoint_change(Some(&on), &ca(true, true, &[])).unwrap().public_access_cidrs(), ["0.0.0.0/0"]);
        // No CIDRs described counts as the default.
        let bare = VpcConfigResponse::builder().endpoint_private_access(true).endpoint_public_access(true).build();
        assert!(endpoint_change(Some(&bare), &ca(true, true, &[])).is_none());
    }

    #[test]
    fn logging_turns_planned_types_on_and_the_rest_off() {
        let all = |on: &[&str], enabled: bool| LogSetup::builder().set_types(Some(on.iter().map(|t| LogType::from(*t)).collect())).enabled(enabled).build();
        let d = Logging::builder().cluster_logging(all(&["api", "audit"], true)).cluster_logging(all(&["scheduler"], false)).build();
        assert!(logging_change(Some(&d), &["audit".into(), "api".into()]).is_none());
        let l = logging_change(Some(&d), &["api".into()]).unwrap();
        let on = enabled_log_types(Some(&l));
        assert_eq!(on, BTreeSet::from(["api".to_string()]));
        let off: BTreeSet<&str> = l.cluster_logging().iter().filter(|s| s.enabled() == Some(false)).flat_map(|s| s.types().iter().map(|t| t.as_str())).collect();
        assert_eq!(off, BTreeSet::from(["audit", "authenticator", "controllerManager", "scheduler"]));
        // Nothing planned: one setup turning everything off.
        let none = logging_change(Some(&d), &[]).unwrap();
        assert_eq!(none.cluster_logging().len(), 1);
        assert!(logging_change(None, &[]).is_none());
    }

    #[test]
    fn labels_and_taints_diff() {
        let cur: HashMap<String, String> = [("team", "a"), ("old", "x"), ("same", "s")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let want: BTreeMap<String, String> = [("team", "b"), ("new", "y"), ("same", "s")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let (add, remove) = label_changes(Some(&cur), &want);
        assert_eq!(add, [("new".to_string(), "y".to_string()), ("team".to_string(), "b".to_string())].into_iter().collect());
        assert_eq!(remove, ["old"]);
        assert_eq!(label_changes(None, &BTreeMap::new()), (BTreeMap::new(), vec![]));

        let t = |k: &str, v: Option<&str>, e: &str| (k.to_string(), v.map(str::to_string), e.to_string());
        let cur = vec![t("dedicated", Some("a"), "NO_SCHEDULE"), t("gone", None, "NO_EXECUTE"), t("keep", None, "NO_SCHEDULE")];
        let want = vec![t("dedicated", Some("b"), "NO_SCHEDULE"), t("keep", Some(""), "NO_SCHEDULE"), t("gpu", None, "NO_EXECUTE")];
        let (add, remove) = taint_changes(&cur, &want);
        assert_eq!(add, vec![t("dedicated", Some("b"), "NO_SCHEDULE"), t("gpu", None, "NO_EXECUTE")]);
        assert_eq!(remove, vec![t("gone", None, "NO_EXECUTE")]);
    }

    #[test]
    fn desired_size_is_left_to_the_autoscaler_unless_the_plan_changed_it() {
        // Same plan, the autoscaler moved desired to 4: nothing to do.
        assert_eq!(scaling_change((1, 4, 5), (1, 2, 5), Some(2)), None);
        // The planned desired size changed: set it.
        assert_eq!(scaling_change((1, 4, 5), (1, 3, 5), Some(2)), Some((1, 3, 5)));
        // No record (an older state): the plan wins.
        assert_eq!(scaling_change((1, 4, 5), (1, 2, 5), None), Some((1, 2, 5)));
        // A new max below the running size clamps it.
        assert_eq!(scaling_change((1, 4, 5), (1, 2, 3), Some(2)), Some((1, 3, 3)));
        assert_eq!(scaling_change((1, 2, 3), (1, 2, 3), Some(2)), None);
    }

    #[test]
    fn addon_versions_and_configuration() {
        assert_eq!(addon_version_cmp("v1.19.2-eksbuild.1", "v1.18.3-eksbuild.1"), Ordering::Greater);
        assert_eq!(addon_version_cmp("v1.19.2-eksbuild.2", "v1.19.2-eksbuild.10"), Ordering::Less);
        assert_eq!(addon_version_cmp("v1.19.2-eksbuild.1", "v1.19.2-eksbuild.1"), Ordering::Equal);
        assert!(same_configuration(None, Some("{}")));
        assert!(same_configuration(Some(""), None));
        assert!(same_configuration(Some("{\"a\": 1, \"b\": {\"c\": \"d\"}}"), Some("{\"b\":{\"c\":\"d\"},\"a\":1}")));
        assert!(!same_configuration(Some("{\"a\": 1}"), None));
        assert!(!same_configuration(Some("a: 1"), Some("{\"a\":1}")));
    }

    #[test]
    fn policies_compare_as_json_even_when_url_encoded() {
        let want = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%20%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22*%22%7D%5D%7D";
        assert!(same_policy(Some(encoded), want));
        assert!(same_policy(Some(want), want));
        assert!(!same_policy(Some(&want.replace("GetObject", "PutObject")), want));
        assert!(!same_policy(None, want));
        assert!(!same_policy(Some("%zz"), want));
        assert_eq!(url_decode("a%2Fb"), Some("a/b".into()));
        assert_eq!(url_decode("%4"), None);
    }
}
