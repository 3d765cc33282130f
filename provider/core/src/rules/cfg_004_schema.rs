//! SEKS-CFG-004: the inputs match the schema (types, enum values, no unknown keys).
//! Produced by the codec, not by the catalogue: a spec that does not decode cannot be evaluated.

use super::*;
use crate::codec::DecodeError;

pub(super) static META: RuleMeta = RuleMeta {
    id: "SEKS-CFG-004",
    title: "Inputs must match the schema",
    severity: Severity::High,
    level: Level::Error,
    waivable: false,
    refs: &[],
};

/// Inputs renamed before 1.0 (old name, new name, the version that renamed it), each recorded in
/// CHANGELOG.md. A program that still uses an old name gets this rule with the rename as its fix.
pub const RENAMED_INPUTS: &[(&str, &str, &str)] = &[("diskSizeGiB", "diskSizeGb", "0.1.0")];

/// The message and top-level property for a decode error.
pub fn schema_failure(e: &DecodeError) -> (String, String) {
    let msg = e.message.split(" at line ").next().unwrap_or(&e.message).to_string();
    let renamed = RENAMED_INPUTS.iter().find(|(old, _, _)| msg.starts_with(&format!("unknown field `{old}`")));
    let fix = match renamed {
        Some((old, new, version)) => {
            format!("rename `{old}` to `{new}` (renamed in {version}, same meaning and unit; see CHANGELOG.md)")
        }
        None => "correct the value (the SDK's type hints and `pulumi package get-schema` list the allowed fields and values)".into(),
    };
    let f = Finding { path: e.path.clone(), problem: msg, expected: "a value of the type and shape in the schema".into(), fix };
    (e.path.top().unwrap_or("").to_string(), message(&META, &f))
}

#[cfg(test)]
mod tests {
    use super::schema_failure;
    use crate::codec::{decode, from_json};
    use crate::model::ClusterArgs;
    use expect_test::expect;
    use serde_json::json;

    fn run(v: serde_json::Value) -> String {
        match decode::<ClusterArgs>(&from_json(&v)) {
            Ok(_) => "pass".into(),
            Err(e) => {
                let (p, m) = schema_failure(&e);
                format!("{p} | {m}")
            }
        }
    }

    #[test]
    fn pass() {
        expect!["pass"].assert_eq(&run(super::super::fixtures::golden()));
    }

    #[test]
    fn fail() {
        expect!["nodeGroups | SEKS-CFG-004 [HIGH] nodeGroups[0].capacityType: unknown variant `spot`, expected `ON_DEMAND` or `SPOT`; expected a value of the type and shape in the schema. Fix: correct the value (the SDK's type hints and `pulumi package get-schema` list the allowed fields and values). Refs: none"].assert_eq(&run(json!({"kubernetesVersion": "1.34", "nodeGroups": [{"name": "a", "instanceTypes": ["m7g.large"], "capacityType": "spot"}]})));
        expect!["nodeGroups | SEKS-CFG-004 [HIGH] nodeGroups[0].imdsHopLimt: unknown field `imdsHopLimt`, expected one of `name`, `instanceTypes`, `capacityType`, `minSize`, `desiredSize`, `maxSize`, `amiFamily`, `amiId`, `diskSizeGb`, `labels`, `taints`, `imdsHopLimit`, `userData`, `updateConfig`, `nodeRepair`, `accelerator`, `releaseVersion`; expected a value of the type and shape in the schema. Fix: correct the value (the SDK's type hints and `pulumi package get-schema` list the allowed fields and values). Refs: none"].assert_eq(&run(json!({"kubernetesVersion": "1.34", "nodeGroups": [{"name": "a", "instanceTypes": ["m7g.large"], "imdsHopLimt": 1}]})));
    }

    #[test]
    fn renamed_input_names_its_new_name() {
        expect!["nodeGroups | SEKS-CFG-004 [HIGH] nodeGroups[0].diskSizeGiB: unknown field `diskSizeGiB`, expected one of `name`, `instanceTypes`, `capacityType`, `minSize`, `desiredSize`, `maxSize`, `amiFamily`, `amiId`, `diskSizeGb`, `labels`, `taints`, `imdsHopLimit`, `userData`, `updateConfig`, `nodeRepair`, `accelerator`, `releaseVersion`; expected a value of the type and shape in the schema. Fix: rename `diskSizeGiB` to `diskSizeGb` (renamed in 0.1.0, same meaning and unit; see CHANGELOG.md). Refs: none"].assert_eq(&run(json!({"kubernetesVersion": "1.34", "nodeGroups": [{"name": "a", "instanceTypes": ["m7g.large"], "diskSizeGiB": 80}]})));
    }

    #[test]
    fn unknown() {
        // An unknown value decodes as absent: never a schema failure.
        let mut tree = from_json(&super::super::fixtures::golden());
        if let crate::value::Value::Object(m) = &mut tree {
            m.insert("network".into(), crate::value::Value::Unknown(crate::value::UnknownKind::Object));
        }
        assert!(decode::<ClusterArgs>(&tree).is_ok());
    }
}
