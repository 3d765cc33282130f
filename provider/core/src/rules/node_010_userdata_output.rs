//! SEKS-NODE-010: userData never embeds the text of an unresolved Output. Not waivable.
//! The message never echoes the userData blob, only the marker found.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NODE-010",
    title: "userData contains the text of an unresolved Output",
    severity: Severity::Critical,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct UserDataOutput;
pub(super) static RULE: UserDataOutput = UserDataOutput;

impl Rule for UserDataOutput {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        node_groups(ctx)
            .filter_map(|(p, ng)| {
                let path = p.k("userData");
                when_known(ctx, &path, || {
                    let ud = ng.user_data.as_deref()?;
                    let marker = leaked_output_marker(ud)?;
                    Some(Finding {
                        path: path.clone(),
                        problem: format!(
                            "the user data contains {marker:?}: an Output was turned into a string before it resolved, so nodes would boot with that text"
                        ),
                        expected: "user data built inside apply/interpolate (pulumi.interpolate, Output.concat, fn::join)".into(),
                        fix: "build the string with pulumi.interpolate`...` (TS) or Output.concat(...) (Python) instead of string formatting".into(),
                    })
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, run, with};
    use super::RULE;
    use expect_test::expect;

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][0]["userData"] = "apiVersion: node.eks.aws/v1alpha1".into()), &[]));
    }

    #[test]
    fn fail() {
        expect![[r#"SEKS-NODE-010 [CRITICAL] nodeGroups[0].userData: the user data contains "Calling [toString] on an [Output<T>]": an Output was turned into a string before it resolved, so nodes would boot with that text; expected user data built inside apply/interpolate (pulumi.interpolate, Output.concat, fn::join). Fix: build the string with pulumi.interpolate`...` (TS) or Output.concat(...) (Python) instead of string formatting. Refs: none"#]].assert_eq(&run(
            &RULE,
            with(|s| s["nodeGroups"][0]["userData"] = "#!/bin/bash\nCLUSTER=Calling [toString] on an [Output<T>] is not supported.\nSECRET=hunter2".into()),
            &[],
        ));
    }

    #[test]
    fn unknown() {
        expect!["deferred: nodeGroups[0].userData"].assert_eq(&run(&RULE, golden(), &["nodeGroups[0].userData"]));
    }
}
