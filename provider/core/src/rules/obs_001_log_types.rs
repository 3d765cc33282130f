//! SEKS-OBS-001: all five control-plane log types, valid names, and a retention CloudWatch accepts.

use super::*;
use crate::model::ALL_LOG_TYPES;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-OBS-001",
    title: "Control-plane logging: all five types and a valid retention",
    severity: Severity::Medium,
    level: Level::Error,
    waivable: true,
    refs: &["CIS 2.1.1", "CKV_AWS_37", "AVD-AWS-0038", "EKS BPG security/detective"],
};

/// The retention values CloudWatch Logs accepts.
const RETENTION: [i64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

pub(super) struct LogTypes;
pub(super) static RULE: LogTypes = LogTypes;

impl Rule for LogTypes {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let mut out = Vec::new();
        let Some(logging) = ctx.spec.logging.as_ref() else {
            return out;
        };
        let tp = Path::key("logging").k("types");
        if !ctx.known(&tp) {
            out.push(Outcome::Deferred(tp.clone()));
        } else if let Some(types) = &logging.types {
            if let Some(bad) = types.iter().find(|t| !ALL_LOG_TYPES.contains(&t.as_str())) {
                out.push(Outcome::Fail(Finding {
                    path: tp.clone(),
                    problem: format!("{bad:?} is not an EKS log type"),
                    expected: format!("a subset of {}", ALL_LOG_TYPES.join(", ")),
                    fix: "remove it; leave logging.types out to get all five".into(),
                }));
            }
            let missing: Vec<&str> = ALL_LOG_TYPES.iter().copied().filter(|t| !types.iter().any(|x| x == t)).collect();
            if !missing.is_empty() {
                out.push(Outcome::Fail(Finding {
                    path: tp.clone(),
                    problem: format!("the log types {} are off", missing.join(", ")),
                    expected: "all five control-plane log types".into(),
                    fix: "leave logging.types out, or list all five".into(),
                }));
            }
        }
        let rp = Path::key("logging").k("retentionDays");
        out.extend(when_known(ctx, &rp, || {
            let r = logging.retention_days?;
            (!RETENTION.contains(&r)).then(|| Finding {
                path: rp.clone(),
                problem: format!("{r} days is not a retention CloudWatch Logs accepts"),
                expected: "one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653".into(),
                fix: "use 90 (the default) or 365".into(),
            })
        }));
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
    }

    #[test]
    fn fail() {
        expect![[r#"
            SEKS-OBS-001 [MEDIUM] logging.types: "sched" is not an EKS log type; expected a subset of api, audit, authenticator, controllerManager, scheduler. Fix: remove it; leave logging.types out to get all five. Refs: CIS 2.1.1, CKV_AWS_37, AVD-AWS-0038, EKS BPG security/detective
            SEKS-OBS-001 [MEDIUM] logging.types: the log types authenticator, controllerManager, scheduler are off; expected all five control-plane log types. Fix: leave logging.types out, or list all five. Refs: CIS 2.1.1, CKV_AWS_37, AVD-AWS-0038, EKS BPG security/detective
            SEKS-OBS-001 [MEDIUM] logging.retentionDays: 10 days is not a retention CloudWatch Logs accepts; expected one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653. Fix: use 90 (the default) or 365. Refs: CIS 2.1.1, CKV_AWS_37, AVD-AWS-0038, EKS BPG security/detective"#]].assert_eq(&run(&RULE, with(|s| s["logging"] = json!({"types": ["api", "audit", "sched"], "retentionDays": 10})), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: logging.retentionDays"].assert_eq(&run(&RULE, golden(), &["logging.retentionDays"]));
    }
}
