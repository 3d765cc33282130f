//! SEKS-COST-001: `tags` fit AWS's tag limits and leave secure-eks's own tags alone.
//!
//! AWS allows 50 tags per resource, keys of at most 128 and values of at most 256 characters, and
//! reserves the `aws:` prefix (in any case). secure-eks adds up to 4 tags of its own
//! (`secure-eks:cluster`, `secure-eks:step`, and on subnets `kubernetes.io/cluster/<name>` and
//! `kubernetes.io/role/internal-elb`), so at most 46 user tags fit, minus the provider's
//! `defaultTags`. The `secure-eks:` and `kubernetes.io/cluster/` prefixes are secure-eks's.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-COST-001",
    title: "Tags must fit AWS limits and leave secure-eks's keys alone",
    severity: Severity::Medium,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct Tags;
pub(super) static RULE: Tags = Tags;

/// AWS's per-resource limit.
const AWS_MAX_TAGS: usize = 50;
/// Tags secure-eks may add to one resource.
const OWN_TAGS: usize = 4;

impl Rule for Tags {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let base = Path::key("tags");
        if ctx.annotations.is_unknown(&base) {
            return vec![Outcome::Deferred(base)];
        }
        let tags = map_entries(ctx, &base, ctx.spec.tags.as_ref());
        let mut out = Vec::new();
        let max = AWS_MAX_TAGS - OWN_TAGS;
        if tags.len() > max {
            out.push(Outcome::Fail(Finding {
                path: base.clone(),
                problem: format!("{} tags are given", tags.len()),
                expected: format!("at most {max} (AWS allows {AWS_MAX_TAGS} per resource, and secure-eks adds up to {OWN_TAGS} of its own)"),
                fix: format!("remove tags until at most {max} remain (the provider's defaultTags count against the same limit)"),
            }));
        }
        for (k, v) in &tags {
            let p = base.k(k.clone());
            let lower = k.to_ascii_lowercase();
            let key_problem = if k.is_empty() || k.chars().count() > 128 {
                Some((format!("the tag key has {} characters", k.chars().count()), "a key of 1 to 128 characters".to_string(), "shorten the key".to_string()))
            } else if lower.starts_with("aws:") {
                Some((format!("the tag key {k:?} starts with aws:, which AWS reserves"), "a key without the aws: prefix".to_string(), format!("rename it, e.g. to {:?}", &k[4..])))
            } else if lower.starts_with("secure-eks:") || k.starts_with("kubernetes.io/cluster/") {
                Some((
                    format!("the tag key {k:?} is one secure-eks sets itself (it names the cluster)"),
                    "a key outside the secure-eks: and kubernetes.io/cluster/ prefixes".to_string(),
                    "remove it; secure-eks tags every resource with secure-eks:cluster=<clusterName>".to_string(),
                ))
            } else {
                None
            };
            if let Some((problem, expected, fix)) = key_problem {
                out.push(Outcome::Fail(Finding { path: p, problem, expected, fix }));
                continue;
            }
            let Some(v) = v.filter(|_| ctx.known(&p)) else {
                out.push(Outcome::Deferred(p));
                continue;
            };
            if v.chars().count() > 256 {
                out.push(Outcome::Fail(Finding {
                    path: p.clone(),
                    problem: format!("the value of tag {k:?} has {} characters", v.chars().count()),
                    expected: "a value of at most 256 characters".into(),
                    fix: format!("shorten {p}"),
                }));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, run, with};
    use super::RULE;
    use expect_test::expect;
    use serde_json::json;

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, golden(), &[]));
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["tags"] = json!({"team": "platform", "cost-center": "4711", "env": ""})), &[]));
    }

    #[test]
    fn fail() {
        expect![[r#"
            SEKS-COST-001 [MEDIUM] tags["AWS:owner"]: the tag key "AWS:owner" starts with aws:, which AWS reserves; expected a key without the aws: prefix. Fix: rename it, e.g. to "owner". Refs: none
            SEKS-COST-001 [MEDIUM] tags.kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk: the tag key has 129 characters; expected a key of 1 to 128 characters. Fix: shorten the key. Refs: none
            SEKS-COST-001 [MEDIUM] tags.note: the value of tag "note" has 300 characters; expected a value of at most 256 characters. Fix: shorten tags.note. Refs: none
            SEKS-COST-001 [MEDIUM] tags["secure-eks:cluster"]: the tag key "secure-eks:cluster" is one secure-eks sets itself (it names the cluster); expected a key outside the secure-eks: and kubernetes.io/cluster/ prefixes. Fix: remove it; secure-eks tags every resource with secure-eks:cluster=<clusterName>. Refs: none"#]].assert_eq(&run(
            &RULE,
            with(|s| s["tags"] = json!({"AWS:owner": "x", "secure-eks:cluster": "prod", "note": "n".repeat(300), "k".repeat(129): "v"})),
            &[],
        ));
        let many: serde_json::Map<String, serde_json::Value> = (0..47).map(|i| (format!("t{i}"), json!("v"))).collect();
        expect!["SEKS-COST-001 [MEDIUM] tags: 47 tags are given; expected at most 46 (AWS allows 50 per resource, and secure-eks adds up to 4 of its own). Fix: remove tags until at most 46 remain (the provider's defaultTags count against the same limit). Refs: none"].assert_eq(&run(&RULE, with(|s| s["tags"] = serde_json::Value::Object(many)), &[]));
    }

    #[test]
    fn unknown() {
        expect![[r#"
            SEKS-COST-001 [MEDIUM] tags["aws:x"]: the tag key "aws:x" starts with aws:, which AWS reserves; expected a key without the aws: prefix. Fix: rename it, e.g. to "x". Refs: none
            deferred: tags.team"#]].assert_eq(&run(&RULE, with(|s| s["tags"] = json!({"team": "x", "aws:x": "y"})), &["tags.team"]));
        expect!["deferred: tags"].assert_eq(&run(&RULE, golden(), &["tags"]));
    }
}
