//! `docs/reference.md`: every provider config key and every `SecureEksCluster` input and output,
//! with its type, default and description, generated from the package schema (descriptions and
//! types) and from `ClusterArgs::with_defaults` (the secure defaults, read off a minimal spec
//! after defaulting, so the doc cannot drift from the code).

use anyhow::{bail, Context, Result};
use secure_eks_core::model::{Autoname, ClusterArgs};
use serde_json::{json, Map, Value};

/// A region placeholder: defaults derived from the region (the availability zones) are rendered
/// with `<region>` in its place.
const REGION: &str = "REGION";

/// The smallest valid spec. Its own values are not defaults, so they are subtracted again.
fn minimal_spec() -> Value {
    json!({"kubernetesVersion": "1.34", "nodeGroups": [{"name": "general", "instanceTypes": ["m7g.large"]}]})
}

/// Defaults that `with_defaults` does not fill in, because they are computed later (at Create,
/// from AWS, or by the AWS SDK). `*` matches one path segment. Each one must match a row, so a
/// rename in the schema fails the generator instead of leaving a stale line.
const COMPUTED: &[(&str, &str)] = &[
    // provider/core/src/model/defaults.rs `derive_name` (the seed is the URN).
    ("clusterName", "autonamed: `<resource name>-<7 hex>`"),
    // provider/executor: a CMK with rotation is created when no key is given.
    ("encryption.kmsKeyArn", "a new customer managed key with rotation"),
    // Resolved from EKS DescribeAddonVersions at Check/Create.
    ("addons.*.version", "the AWS default for the cluster version"),
    // provider/executor/src/lib.rs: the standard AWS SDK chain.
    ("profile", "the standard AWS credential chain"),
    ("accessKey", "the standard AWS credential chain"),
    ("secretKey", "the standard AWS credential chain"),
    ("token", "the standard AWS credential chain"),
    ("assumeRole.sessionName", "`secure-eks`"),
    // provider/server/src/provider.rs: only `true` skips the STS call.
    ("skipCredentialsValidation", "`false`"),
];

fn glob_match(pattern: &str, path: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let q: Vec<&str> = path.split('.').collect();
    p.len() == q.len() && p.iter().zip(&q).all(|(a, b)| *a == "*" || a == b)
}

struct Row {
    path: String,
    ty: String,
    required: bool,
    default: String,
    description: String,
}

struct Walker<'a> {
    types: &'a Map<String, Value>,
    rows: Vec<Row>,
}

fn short_name(token: &str) -> &str {
    token.rsplit(':').next().unwrap_or(token)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|")
}

/// A default value as markdown: strings bare, everything else as compact JSON, in backticks.
fn render_default(v: &Value) -> String {
    fn inner(v: &Value) -> String {
        match v {
            Value::String(s) => format!("\"{s}\""),
            Value::Array(a) => format!("[{}]", a.iter().map(inner).collect::<Vec<_>>().join(", ")),
            Value::Object(o) => format!(
                "{{{}}}",
                o.iter().map(|(k, v)| format!("\"{k}\": {}", inner(v))).collect::<Vec<_>>().join(", ")
            ),
            other => other.to_string(),
        }
    }
    let text = match v {
        Value::String(s) => s.clone(),
        other => inner(other),
    };
    format!("`{}`", text.replace(REGION, "<region>")).replace('|', "\\|")
}

impl<'a> Walker<'a> {
    fn type_def(&self, prop: &Value) -> Option<(&'a str, &'a Value)> {
        let token = prop.get("$ref")?.as_str()?.strip_prefix("#/types/")?;
        let (k, v) = self.types.get_key_value(token)?;
        Some((k.as_str(), v))
    }

    fn ty(&self, prop: &Value) -> String {
        if let Some((token, def)) = self.type_def(prop) {
            if let Some(values) = def.get("enum").and_then(Value::as_array) {
                return values
                    .iter()
                    .filter_map(|e| e.get("value"))
                    .map(|v| format!("`{}`", v.as_str().map(String::from).unwrap_or_else(|| v.to_string())))
                    .collect::<Vec<_>>()
                    .join(" \\| ");
            }
            return format!("[{}](#{})", short_name(token), short_name(token).to_ascii_lowercase());
        }
        match prop.get("type").and_then(Value::as_str) {
            Some("array") => format!("{}[]", prop.get("items").map(|i| self.ty(i)).unwrap_or_default()),
            Some("object") => match prop.get("additionalProperties") {
                Some(ap) => format!("map of {}", self.ty(ap)),
                None => "object".into(),
            },
            Some(t) => t.into(),
            None => "any".into(),
        }
    }

    /// The object type behind a property (directly, as array items, or as map values), with the
    /// path suffix that leads into it and the default value to descend into.
    fn nested(&self, prop: &Value, default: Option<&Value>) -> Option<(&'a Value, &'static str, Option<Value>)> {
        let object = |p: &Value| self.type_def(p).map(|(_, d)| d).filter(|d| d.get("properties").is_some());
        if let Some(def) = object(prop) {
            return Some((def, ".", default.cloned()));
        }
        match prop.get("type").and_then(Value::as_str) {
            Some("array") => {
                let def = object(prop.get("items")?)?;
                Some((def, "[].", default.and_then(|d| d.get(0)).cloned()))
            }
            Some("object") => {
                let def = object(prop.get("additionalProperties")?)?;
                Some((def, ".<key>.", None))
            }
            _ => None,
        }
    }

    /// Rows for `props` under `prefix`. `defaults`/`given` are the defaulted and the given spec at
    /// this level: a value present in the first and absent from the second is a default.
    fn walk(&mut self, props: &Map<String, Value>, required: &[Value], prefix: &str, defaults: Option<&Value>, given: Option<&Value>) {
        for (key, prop) in props {
            let path = format!("{prefix}{key}");
            let default_value = defaults.and_then(|d| d.get(key)).filter(|v| !v.is_null());
            let given_value = given.and_then(|g| g.get(key));
            let nested = self.nested(prop, default_value);
            let mut default = match (default_value, given_value) {
                (Some(_), None) if nested.is_some() => "(fields below)".into(),
                (Some(_), _) if nested.is_some() => String::new(),
                (Some(v), None) => render_default(v),
                _ => String::new(),
            };
            if let Some(env) = prop.pointer("/defaultInfo/environment").and_then(Value::as_array) {
                let names: Vec<String> = env.iter().filter_map(Value::as_str).map(|e| format!("`{e}`")).collect();
                default = format!("{} (environment)", names.join(", then "));
            }
            let mut description = one_line(prop.get("description").and_then(Value::as_str).unwrap_or(""));
            if prop.get("secret") == Some(&Value::Bool(true)) && !description.contains("Secret") {
                description.push_str(" **Secret.**");
            }
            if prop.get("replaceOnChanges") == Some(&Value::Bool(true)) && !description.contains("replaces the cluster") {
                description.push_str(" **Changing it replaces the cluster.**");
            }
            self.rows.push(Row {
                path: path.clone(),
                ty: self.ty(prop),
                required: required.iter().any(|r| r.as_str() == Some(key)),
                default,
                description: description.trim().to_string(),
            });
            if let Some((def, sep, nested_default)) = nested {
                let Some(props) = def.get("properties").and_then(Value::as_object) else { continue };
                let required = def.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
                let given_nested = match sep {
                    "[]." => given_value.and_then(|g| g.get(0)),
                    _ => given_value,
                };
                self.walk(props, &required, &format!("{path}{sep}"), nested_default.as_ref(), given_nested);
            }
        }
    }

    /// Fill in the computed defaults; every pattern must match at least one row.
    fn apply_computed(&mut self, patterns: &[(&str, &str)]) -> Result<()> {
        for (pattern, text) in patterns {
            let mut hit = false;
            for row in self.rows.iter_mut().filter(|r| glob_match(pattern, &r.path)) {
                row.default = (*text).to_string();
                hit = true;
            }
            if !hit {
                bail!("reference-doc: the computed default `{pattern}` matches no property");
            }
        }
        Ok(())
    }
}

fn table(rows: &[Row], with_default: bool) -> String {
    let mut s = String::new();
    if with_default {
        s.push_str("| name | type | required | default | description |\n|---|---|---|---|---|\n");
    } else {
        s.push_str("| name | type | description |\n|---|---|---|\n");
    }
    for r in rows {
        let default = if r.default.is_empty() { "—".to_string() } else { r.default.clone() };
        if with_default {
            s.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                r.path,
                r.ty,
                if r.required { "yes" } else { "" },
                default,
                r.description
            ));
        } else {
            s.push_str(&format!("| `{}` | {} | {} |\n", r.path, r.ty, r.description));
        }
    }
    s
}

/// The text of `docs/reference.md`.
pub fn reference_doc() -> Result<String> {
    let schema: Value = serde_json::from_str(&secure_eks_core::schema::package_schema_text()).context("parsing the schema")?;
    let empty = Map::new();
    let types = schema.get("types").and_then(Value::as_object).unwrap_or(&empty);
    let resource = schema
        .pointer(&format!("/resources/{}", secure_eks_core::CLUSTER_TOKEN))
        .context("the schema has no cluster resource")?;

    // Defaults: a minimal spec through with_defaults.
    let given = minimal_spec();
    let args: ClusterArgs = serde_json::from_value(given.clone()).context("the minimal spec")?;
    let defaulted = serde_json::to_value(args.with_defaults(Autoname::Disabled, Some(REGION)))?;

    let mut config = Walker { types, rows: Vec::new() };
    let vars = schema.pointer("/config/variables").and_then(Value::as_object).unwrap_or(&empty);
    config.walk(vars, &[], "", None, None);
    let mut inputs = Walker { types, rows: Vec::new() };
    let input_props = resource.get("inputProperties").and_then(Value::as_object).unwrap_or(&empty);
    let required = resource.get("requiredInputs").and_then(Value::as_array).cloned().unwrap_or_default();
    inputs.walk(input_props, &required, "", Some(&defaulted), Some(&given));
    let mut outputs = Walker { types, rows: Vec::new() };
    let output_props = resource.get("properties").and_then(Value::as_object).unwrap_or(&empty);
    outputs.walk(output_props, &[], "", None, None);

    // Each computed default belongs to the config or the inputs.
    let (config_computed, input_computed): (Vec<_>, Vec<_>) =
        COMPUTED.iter().partition(|(p, _)| vars.contains_key(p.split('.').next().unwrap_or("")));
    config.apply_computed(&config_computed)?;
    inputs.apply_computed(&input_computed)?;

    let version = schema.get("version").and_then(Value::as_str).unwrap_or("");
    let description = one_line(resource.get("description").and_then(Value::as_str).unwrap_or(""));
    let mut s = String::new();
    s.push_str("# secure-eks reference\n\n");
    s.push_str(&format!(
        "Generated by `cargo run -p xtask -- reference-doc` from the package schema (version {version}) and the \
         secure defaults in `provider/core/src/model/defaults.rs`; do not edit. The rules that Check applies are in \
         [rules.md](rules.md); what to do when one fails is in [troubleshooting.md](troubleshooting.md).\n\n"
    ));
    s.push_str(
        "Paths use the engine's property-path syntax, as in check failures: `a.b` is field `b` of object `a`, \
         `a[].b` is field `b` of every element of list `a`, and `a.<key>.b` is field `b` of every value of map `a`. \
         Defaults are filled in at Check, so `pulumi preview --diff` shows them; `—` means the setting stays absent.\n\n",
    );
    s.push_str("## Provider configuration\n\n");
    s.push_str(
        "Set with `pulumi config set secure-eks:<key> <value>` (`--path` for nested keys, `--secret` for secrets) \
         or as arguments of an explicit `secure-eks` provider resource. Values set as strings (`\"true\"`, JSON \
         lists and objects) are decoded by the schema.\n\n",
    );
    s.push_str(&table(&config.rows, true));
    s.push_str(&format!("\n## SecureEksCluster\n\nToken `{}`. {description}\n\n", secure_eks_core::CLUSTER_TOKEN));
    s.push_str("### Inputs\n\n");
    s.push_str(&table(&inputs.rows, true));
    s.push_str("\n### Outputs\n\nAll outputs are known after `pulumi up`; at preview most are unknown.\n\n");
    s.push_str(&table(&outputs.rows, false));

    // One section per object type, so the links in the type column resolve.
    s.push_str("\n## Types\n\n");
    for (token, def) in types {
        let name = short_name(token);
        let desc = one_line(def.get("description").and_then(Value::as_str).unwrap_or(""));
        s.push_str(&format!("### {name}\n\n{desc}\n\n"));
        if let Some(values) = def.get("enum").and_then(Value::as_array) {
            for v in values {
                let value = v.get("value").and_then(Value::as_str).unwrap_or("");
                let d = one_line(v.get("description").and_then(Value::as_str).unwrap_or(""));
                s.push_str(&format!("- `{value}`: {d}\n"));
            }
            s.push('\n');
        } else if let Some(props) = def.get("properties").and_then(Value::as_object) {
            let fields: Vec<String> = props.keys().map(|k| format!("`{k}`")).collect();
            s.push_str(&format!("Fields: {} (see the tables above).\n\n", fields.join(", ")));
        }
    }
    Ok(s.trim_end().to_string() + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_reference_doc_is_fresh() {
        let text = reference_doc().unwrap_or_else(|e| panic!("{e:#}"));
        let committed = std::fs::read_to_string(crate::root().join("docs/reference.md")).unwrap_or_default();
        assert!(committed == text, "docs/reference.md is stale: run `cargo run -p xtask -- reference-doc`");
    }

    #[test]
    fn defaults_come_from_the_code() {
        let text = reference_doc().unwrap_or_else(|e| panic!("{e:#}"));
        let row = |path: &str| text.lines().find(|l| l.starts_with(&format!("| `{path}` |"))).unwrap_or("").to_string();
        assert!(row("network.podCidr").contains("`100.64.0.0/16`"), "{}", row("network.podCidr"));
        assert!(row("nodeGroups[].imdsHopLimit").contains("`2`"), "{}", row("nodeGroups[].imdsHopLimit"));
        assert!(row("network.availabilityZones").contains("<region>a"), "{}", row("network.availabilityZones"));
        assert!(row("kubernetesVersion").contains("| yes | — |"), "{}", row("kubernetesVersion"));
        assert!(row("region").contains("`AWS_REGION`"), "{}", row("region"));
        assert!(row("kubeconfig").contains("Secret"), "{}", row("kubeconfig"));
    }

    #[test]
    fn globs_match_one_segment() {
        assert!(glob_match("addons.*.version", "addons.vpcCni.version"));
        assert!(!glob_match("addons.*.version", "addons.vpcCni"));
    }
}
