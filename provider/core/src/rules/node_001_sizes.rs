//! SEKS-NODE-001: node group sizes satisfy 0 ≤ min ≤ desired ≤ max and max ≥ 1.

use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NODE-001",
    title: "Node group sizes must satisfy 0 <= min <= desired <= max",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct Sizes;
pub(super) static RULE: Sizes = Sizes;

impl Rule for Sizes {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        node_groups(ctx)
            .filter_map(|(p, ng)| {
                let paths = [p.k("minSize"), p.k("desiredSize"), p.k("maxSize")];
                if let Some(u) = paths.iter().find(|x| !ctx.known(x)) {
                    return Some(Outcome::Deferred(u.clone()));
                }
                let (min, desired, max) = (ng.min_size?, ng.desired_size?, ng.max_size?);
                let ok = min >= 0 && min <= desired && desired <= max && max >= 1;
                (!ok).then(|| {
                    Outcome::Fail(Finding {
                        path: p.clone(),
                        problem: format!("minSize={min}, desiredSize={desired}, maxSize={max}"),
                        expected: "0 <= minSize <= desiredSize <= maxSize and maxSize >= 1".into(),
                        fix: format!("adjust the sizes of {p}, e.g. minSize=1, desiredSize=2, maxSize=3"),
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
        expect!["pass"].assert_eq(&run(&RULE, golden(), &[]));
    }

    #[test]
    fn fail() {
        expect!["SEKS-NODE-001 [HIGH] nodeGroups[0]: minSize=4, desiredSize=2, maxSize=3; expected 0 <= minSize <= desiredSize <= maxSize and maxSize >= 1. Fix: adjust the sizes of nodeGroups[0], e.g. minSize=1, desiredSize=2, maxSize=3. Refs: none"].assert_eq(&run(&RULE, with(|s| { s["nodeGroups"][0]["minSize"] = 4.into(); }), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: nodeGroups[1].maxSize"].assert_eq(&run(&RULE, golden(), &["nodeGroups[1].maxSize"]));
    }
}
