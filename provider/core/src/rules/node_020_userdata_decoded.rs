//! SEKS-NODE-020: no leaked Output text hides inside encoded user data. Not waivable.
//!
//! SEKS-NODE-010 scans the user data as written; this rule scans what the node will decode from
//! it: MIME parts (base64 or quoted-printable), base64 and gzip+base64 blocks, nested
//! (`userdata_decode`). The message names the layer and the marker, never the user data.

use super::userdata_decode::layers;
use super::*;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-NODE-020",
    title: "Encoded userData (base64, gzip, MIME parts) contains the text of an unresolved Output",
    severity: Severity::Critical,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

pub(super) struct UserDataDecoded;
pub(super) static RULE: UserDataDecoded = UserDataDecoded;

impl Rule for UserDataDecoded {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, ctx: &RuleCtx<'_>) -> Vec<Outcome> {
        node_groups(ctx)
            .filter_map(|(p, ng)| {
                let path = p.k("userData");
                when_known(ctx, &path, || {
                    let ud = ng.user_data.as_deref()?;
                    let (origin, marker) = layers(ud).into_iter().find_map(|l| Some((l.origin, leaked_output_marker(&l.text)?)))?;
                    Some(Finding {
                        path: path.clone(),
                        problem: format!(
                            "the user data's {origin} layer decodes to text containing {marker:?}: an Output was turned into a string before it resolved, and encoding it hid it"
                        ),
                        expected: "user data built inside apply/interpolate before it is encoded".into(),
                        fix: "encode inside apply (e.g. output.apply(v => Buffer.from(v).toString(\"base64\"))) rather than encoding a string made from an Output".into(),
                    })
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{golden, run, with};
    use super::super::userdata_decode::tests::{b64, gzip};
    use super::RULE;
    use expect_test::expect;

    fn ud(s: String) -> serde_json::Value {
        with(|v| v["nodeGroups"][0]["userData"] = serde_json::Value::String(s))
    }

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(&RULE, golden(), &[]));
        expect!["pass"].assert_eq(&run(&RULE, ud(b64(b"#!/bin/sh\necho the cluster endpoint is https://x.eks.amazonaws.com\n")), &[]));
    }

    #[test]
    fn fail() {
        let leak = "#!/bin/sh\necho Calling [toString] on an [Output<T>] is not supported.\n";
        expect![[r#"SEKS-NODE-020 [CRITICAL] nodeGroups[0].userData: the user data's base64 > gzip layer decodes to text containing "Calling [toString] on an [Output<T>]": an Output was turned into a string before it resolved, and encoding it hid it; expected user data built inside apply/interpolate before it is encoded. Fix: encode inside apply (e.g. output.apply(v => Buffer.from(v).toString("base64"))) rather than encoding a string made from an Output. Refs: none"#]]
            .assert_eq(&run(&RULE, ud(b64(&gzip(leak.as_bytes()))), &[]));
        let mime = format!(
            "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"X\"\n\n--X\nContent-Type: text/cloud-config\n\nwrite_files:\n- path: /etc/x\n  encoding: b64\n  content: {}\n--X--\n",
            b64(leak.as_bytes())
        );
        expect![[r#"SEKS-NODE-020 [CRITICAL] nodeGroups[0].userData: the user data's MIME part 1 > base64 layer decodes to text containing "Calling [toString] on an [Output<T>]": an Output was turned into a string before it resolved, and encoding it hid it; expected user data built inside apply/interpolate before it is encoded. Fix: encode inside apply (e.g. output.apply(v => Buffer.from(v).toString("base64"))) rather than encoding a string made from an Output. Refs: none"#]]
            .assert_eq(&run(&RULE, ud(mime), &[]));
    }

    #[test]
    fn unknown() {
        expect!["deferred: nodeGroups[0].userData"].assert_eq(&run(&RULE, ud("x".into()), &["nodeGroups[0].userData"]));
    }
}
