//! SEKS-NODE-007: node group names are unique and valid EKS names.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NODE-007",
    title: "Node group names must be unique and valid",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct UniqueNames;
pub(super) static RULE: UniqueNames = UniqueNames;

fn valid(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 63
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl Rule for UniqueNames {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        let mut seen: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for (p, ng) in node_groups(ctx) {
            let path = p.k("name");
            if !ctx.known(&path) {
                out.push(Outcome::Deferred(path));
                continue;
            }
            if !valid(&ng.name) {
                out.push(Outcome::Fail(Finding {
                    path: path.clone(),
                    problem: format!("{:?} is not a valid node group name", ng.name),
                    expected: "1-63 letters, digits, '-' or '_', starting with a letter or digit".into(),
                    fix: format!("rename {p}"),
                }));
            } else if seen.contains(&ng.name.as_str()) {
                out.push(Outcome::Fail(Finding {
                    path: path.clone(),
                    problem: format!("the name {:?} is used twice", ng.name),
                    expected: "unique node group names".into(),
                    fix: format!("rename {p}"),
                }));
            }
            seen.push(&ng.name);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, run, with};
    use super::RULE;
    use expect_test::expect;

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, golden(), &[]));
    }

    #[test]
    fn fail() {
        expect![[r#"SEKS-NODE-007 [HIGH] nodeGroups[1].name: the name "general" is used twice; expected unique node group names. Fix: rename nodeGroups[1]. Refs: none"#]].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][1]["name"] = "general".into()), &[]));
        expect![[r#"SEKS-NODE-007 [HIGH] nodeGroups[1].name: "-bad name" is not a valid node group name; expected 1-63 letters, digits, '-' or '_', starting with a letter or digit. Fix: rename nodeGroups[1]. Refs: none"#]].assert_eq(&run(&RULE, with(|s| s["nodeGroups"][1]["name"] = "-bad name".into()), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: nodeGroups[0].name"].assert_eq(&run(&RULE, golden(), &["nodeGroups[0].name"]));
    }
}
