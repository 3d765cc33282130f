//! SEKS-AUTO-002: EKS Auto Mode is the alternative to managed node groups: a cluster has one or
//! the other, so that one thing decides where pods run and who patches the nodes.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-AUTO-002",
    title: "Auto Mode clusters have no managed node groups",
    severity: Severity::Medium,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct NoNodeGroups;
pub(super) static RULE: NoNodeGroups = NoNodeGroups;

impl Rule for NoNodeGroups {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let path = Path::key("nodeGroups");
        if !ctx.known(&Path::key("autoMode")) || !ctx.known(&path) {
            return vec![Outcome::Deferred(path)];
        }
        if !ctx.spec.auto_mode_on() || ctx.spec.node_groups.as_ref().is_none_or(Vec::is_empty) {
            return vec![];
        }
        vec![Outcome::Fail(Finding {
            path,
            problem: "autoMode is on and nodeGroups are given; Auto Mode runs the nodes itself".into(),
            expected: "either autoMode or nodeGroups".into(),
            fix: "remove nodeGroups (Auto Mode's general-purpose and system node pools run the pods), or turn autoMode off".into(),
        })]
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
        expect!["pass"].assert_eq(&run(&RULE, with(|s| {
            s["autoMode"] = json!({"enabled": true});
            s.as_object_mut().unwrap().remove("nodeGroups");
        }), &[]));
    }

    #[test]
    fn fail() {
        expect!["SEKS-AUTO-002 [MEDIUM] nodeGroups: autoMode is on and nodeGroups are given; Auto Mode runs the nodes itself; expected either autoMode or nodeGroups. Fix: remove nodeGroups (Auto Mode's general-purpose and system node pools run the pods), or turn autoMode off. Refs: none"].assert_eq(&run(&RULE, with(|s| s["autoMode"] = json!({"enabled": true})), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: nodeGroups"].assert_eq(&run(&RULE, with(|s| s["autoMode"] = json!({"enabled": true})), &["autoMode.enabled"]));
    }
}
