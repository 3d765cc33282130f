//! SEKS-OUT-002: no string input carries the text of an unresolved Output (names, tags, policy
//! documents, CIDRs...). userData has its own rule, SEKS-NODE-010.

use super::*;
use crate::value::Seg;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-OUT-002",
    title: "A string input contains the text of an unresolved Output",
    severity: Severity::Critical,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct LeakedOutput;
pub(super) static RULE: LeakedOutput = LeakedOutput;

fn is_user_data(p: &Path) -> bool {
    matches!(p.last(), Some(Seg::Key(k)) if k == "userData")
}

impl StringRule for LeakedOutput {
    fn skip(&self, path: &Path) -> bool {
        is_user_data(path)
    }

    fn judge(&self, path: &Path, s: &str) -> Option<Finding> {
        leaked_output_marker(s).map(|marker| Finding {
            path: path.clone(),
            problem: format!("the value contains {marker:?}: an Output was turned into a string before it resolved"),
            expected: "the resolved value".into(),
            fix: "pass the Output itself, or build the string with pulumi.interpolate / Output.concat / fn::join".into(),
        })
    }
}

impl Rule for LeakedOutput {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        scan_strings(ctx, self)
    }

    fn strings(&self) -> Option<&dyn StringRule> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{run, with};
    use super::RULE;
    use expect_test::expect;
    use serde_json::json;

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["tags"] = json!({"team": "platform"})), &[]));
    }

    #[test]
    fn fail() {
        expect![[r#"
            SEKS-OUT-002 [CRITICAL] serviceAccountRoles[0].inlinePolicy: the value contains "Calling __str__ on an Output[T]": an Output was turned into a string before it resolved; expected the resolved value. Fix: pass the Output itself, or build the string with pulumi.interpolate / Output.concat / fn::join. Refs: none
            SEKS-OUT-002 [CRITICAL] tags.owner: the value contains "[object Object]": an Output was turned into a string before it resolved; expected the resolved value. Fix: pass the Output itself, or build the string with pulumi.interpolate / Output.concat / fn::join. Refs: none"#]].assert_eq(&run(
            &RULE,
            with(|s| {
                s["tags"] = json!({"owner": "[object Object]"});
                s["serviceAccountRoles"] = json!([{"namespace": "app", "name": "web", "inlinePolicy": "Calling __str__ on an Output[T] is not supported"}]);
            }),
            &[],
        ));
    }

    #[test]
    fn unknown() {
        expect!["deferred: tags.owner"].assert_eq(&run(&RULE, with(|s| s["tags"] = json!({"owner": "x"})), &["tags.owner"]));
    }
}
