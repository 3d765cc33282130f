//! SEKS-CFG-006: waivers are well formed: a known, waivable rule id and a real reason.
//! Also the hygiene warnings SEKS-CFG-002 (expired waiver) and SEKS-CFG-003 (waiver matching nothing).

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-CFG-006",
    title: "Waivers need a known waivable rule and a real reason",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) static EXPIRED: RuleMeta = RuleMeta {
    id: "SEKS-CFG-002",
    title: "Expired waiver",
    severity: Severity::Low,
    level: Level::Warning,
    waivable: false,
    refs: &[],
};

pub(super) static STALE: RuleMeta = RuleMeta {
    id: "SEKS-CFG-003",
    title: "Waiver that matches nothing",
    severity: Severity::Low,
    level: Level::Warning,
    waivable: false,
    refs: &[],
};

/// The shortest reason accepted.
pub(crate) const MIN_REASON: usize = 15;

const PLACEHOLDERS: [&str; 8] = ["n/a", "na", "todo", "tbd", "false positive", "none", "waived", "xxx"];

pub(super) struct Waivers;
pub(super) static RULE: Waivers = Waivers;

impl Rule for Waivers {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let base = Path::key("policy").k("waivers");
        if ctx.annotations.is_unknown(&base) {
            return vec![Outcome::Deferred(base)];
        }
        let metas = all_meta();
        let mut out = Vec::new();
        let waivers = ctx.spec.policy.as_ref().and_then(|p| p.waivers.as_ref());
        for (i, w) in waivers.into_iter().flatten().enumerate() {
            let p = base.i(i);
            if !ctx.known(&p) {
                out.push(Outcome::Deferred(p));
                continue;
            }
            match metas.iter().find(|m| m.id == w.rule) {
                None => out.push(Outcome::Fail(Finding {
                    path: p.k("rule"),
                    problem: format!("{:?} is not a rule id", w.rule),
                    expected: "an exact id such as SEKS-NODE-003 (no wildcards)".into(),
                    fix: "correct the id, or remove the waiver".into(),
                })),
                Some(m) if !m.waivable => out.push(Outcome::Fail(Finding {
                    path: p.k("rule"),
                    problem: format!("{} ({}) cannot be waived", m.id, m.title),
                    expected: "a waivable rule".into(),
                    fix: "fix the configuration instead, and remove the waiver".into(),
                })),
                Some(_) => {}
            }
            let reason = w.reason.trim();
            let lower = reason.to_ascii_lowercase();
            if reason.len() < MIN_REASON || PLACEHOLDERS.contains(&lower.as_str()) {
                out.push(Outcome::Fail(Finding {
                    path: p.k("reason"),
                    problem: format!("the reason has {} characters", reason.len()),
                    expected: format!("a real reason of at least {MIN_REASON} characters (a ticket, the compensating control)"),
                    fix: "explain why the risk is accepted, e.g. \"GPU agent reads IMDS; tracked SEC-123\"".into(),
                }));
            }
            if let Some(e) = &w.expires {
                let ok = e.len() == 10 && e.as_bytes()[4] == b'-' && e.as_bytes()[7] == b'-';
                if !ok {
                    out.push(Outcome::Fail(Finding {
                        path: p.k("expires"),
                        problem: format!("{e:?} is not a date"),
                        expected: "YYYY-MM-DD".into(),
                        fix: "write the date as 2027-01-31".into(),
                    }));
                }
            }
        }
        out
    }
}

/// Warnings for expired waivers and waivers that matched nothing.
pub(super) fn hygiene(ctx: &RuleCtx<'_>, report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    let waivers = ctx.spec.policy.as_ref().and_then(|p| p.waivers.as_ref());
    for (i, w) in waivers.into_iter().flatten().enumerate() {
        let p = Path::key("policy").k("waivers").i(i);
        if w.expires.as_deref().is_some_and(|e| e < ctx.today) {
            out.push(message(
                &EXPIRED,
                &Finding {
                    path: p.k("expires"),
                    problem: format!("the waiver of {} expired on {}", w.rule, w.expires.as_deref().unwrap_or("")),
                    expected: "a current waiver or none".into(),
                    fix: "fix the finding, or renew the waiver with a new date".into(),
                },
            ));
        } else if !report.waived.iter().any(|(r, _)| r.meta.id == w.rule) {
            out.push(message(
                &STALE,
                &Finding {
                    path: p.clone(),
                    problem: format!("the waiver of {} matches no finding", w.rule),
                    expected: "waivers only for findings that occur".into(),
                    fix: format!("remove {p}"),
                },
            ));
        }
    }
    out
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
        expect!["pass"].assert_eq(&run(
            &RULE,
            with(|s| s["policy"] = json!({"waivers": [{"rule": "SEKS-NODE-003", "reason": "GPU agent reads IMDS; SEC-123", "expires": "2027-01-31"}]})),
            &[],
        ));
    }

    #[test]
    fn fail() {
        expect![[r#"
            SEKS-CFG-006 [HIGH] policy.waivers[0].rule: "SEKS-NODE-999" is not a rule id; expected an exact id such as SEKS-NODE-003 (no wildcards). Fix: correct the id, or remove the waiver. Refs: none
            SEKS-CFG-006 [HIGH] policy.waivers[0].reason: the reason has 4 characters; expected a real reason of at least 15 characters (a ticket, the compensating control). Fix: explain why the risk is accepted, e.g. "GPU agent reads IMDS; tracked SEC-123". Refs: none
            SEKS-CFG-006 [HIGH] policy.waivers[1].rule: SEKS-CP-001 (Public API endpoint open to 0.0.0.0/0 or ::/0) cannot be waived; expected a waivable rule. Fix: fix the configuration instead, and remove the waiver. Refs: none
            SEKS-CFG-006 [HIGH] policy.waivers[1].expires: "next year" is not a date; expected YYYY-MM-DD. Fix: write the date as 2027-01-31. Refs: none"#]].assert_eq(&run(
            &RULE,
            with(|s| s["policy"] = json!({"waivers": [
                {"rule": "SEKS-NODE-999", "reason": "todo"},
                {"rule": "SEKS-CP-001", "reason": "the office needs it for now", "expires": "next year"}
            ]})),
            &[],
        ));
    }

    #[test]
    fn unknown() {
        expect!["deferred: policy.waivers[0]"].assert_eq(&run(
            &RULE,
            with(|s| s["policy"] = json!({"waivers": [{"rule": "SEKS-NODE-003", "reason": "x"}]})),
            &["policy.waivers[0].reason"],
        ));
    }
}
