//! The Pulumi package schema, generated from the model types.
//!
//! The model's serde types derive `JsonSchema` (doc comments become descriptions); this module
//! turns that JSON Schema into a Pulumi package schema. `cargo run -p xtask -- schema` writes it to
//! `schema.json`; a test fails when the committed file is stale.

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

use crate::model::{ClusterArgs, ClusterOutputs, ProviderConfig};
use crate::{CLUSTER_TOKEN, PACKAGE, VERSION};

/// The Go import path of the generated Go SDK's package (the module is its parent, `sdk/go`).
pub const GO_MODULE: &str = "github.com/secure-eks/pulumi-secure-eks/sdk/go/secureeks";

/// Where the engine downloads the plugin from: the GitHub releases of `secure-eks/pulumi-secure-eks`
/// (the third-party convention `github://api.github.com/<org>`, repository `pulumi-<package>`).
/// `secure-eks` is the organisation the README, the Go module path and `homepage` use.
pub const PLUGIN_DOWNLOAD_URL: &str = "github://api.github.com/secure-eks";

fn token(name: &str) -> String {
    format!("{PACKAGE}:index:{name}")
}

/// The JSON Schema of one type, with `$defs`.
fn json_schema<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    generator.into_root_schema_for::<T>().to_value()
}

/// Collects Pulumi types from JSON Schema `$defs`.
struct Builder {
    types: Map<String, Value>,
}

impl Builder {
    fn def_name(r: &str) -> Option<&str> {
        r.strip_prefix("#/$defs/")
    }

    fn register_defs(&mut self, root: &Value) {
        let Some(defs) = root.get("$defs").and_then(Value::as_object) else {
            return;
        };
        for (name, def) in defs {
            if self.types.contains_key(&token(name)) {
                continue;
            }
            let ty = if let Some(en) = enum_spec(def) {
                en
            } else {
                let (props, required, _) = self.object_props(def, defs);
                let mut o = Map::new();
                o.insert("type".into(), json!("object"));
                if let Some(d) = def.get("description") {
                    o.insert("description".into(), d.clone());
                }
                o.insert("properties".into(), Value::Object(props));
                if !required.is_empty() {
                    o.insert("required".into(), json!(required));
                }
                Value::Object(o)
            };
            self.types.insert(token(name), ty);
        }
    }

    /// The Pulumi properties of an object schema, its required (non-optional) names, and the
    /// names marked `x-required` (required inputs that decode as optional to allow unknowns).
    fn object_props(
        &self,
        obj: &Value,
        defs: &Map<String, Value>,
    ) -> (Map<String, Value>, Vec<String>, Vec<String>) {
        let mut props = Map::new();
        let mut x_required = Vec::new();
        for (name, p) in obj.get("properties").and_then(Value::as_object).into_iter().flatten() {
            let mut spec = self.type_spec(p, defs);
            if let Some(d) = p.get("description") {
                spec.insert("description".into(), d.clone());
            }
            for key in ["secret", "replaceOnChanges", "defaultInfo"] {
                if let Some(v) = p.get(key) {
                    spec.insert(key.into(), v.clone());
                }
            }
            if p.get("x-required") == Some(&json!(true)) {
                x_required.push(name.clone());
            }
            props.insert(name.clone(), Value::Object(spec));
        }
        let required = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
            .unwrap_or_default();
        (props, required, x_required)
    }

    fn type_spec(&self, p: &Value, defs: &Map<String, Value>) -> Map<String, Value> {
        let p = &strip_null(p);
        let mut out = Map::new();
        if let Some(r) = p.get("$ref").and_then(Value::as_str) {
            if let Some(name) = Self::def_name(r) {
                out.insert("$ref".into(), json!(format!("#/types/{}", token(name))));
                if defs.get(name).and_then(enum_spec).is_some() {
                    out.insert("type".into(), json!("string"));
                }
            }
            return out;
        }
        match p.get("type").and_then(Value::as_str) {
            Some("array") => {
                out.insert("type".into(), json!("array"));
                let items = p.get("items").map(|i| self.type_spec(i, defs)).unwrap_or_default();
                out.insert("items".into(), Value::Object(items));
            }
            Some("object") => {
                out.insert("type".into(), json!("object"));
                let ap = match p.get("additionalProperties") {
                    Some(Value::Object(_)) => {
                        Value::Object(self.type_spec(&p["additionalProperties"], defs))
                    }
                    _ => json!({"$ref": "pulumi.json#/Any"}),
                };
                out.insert("additionalProperties".into(), ap);
            }
            Some(t @ ("string" | "integer" | "number" | "boolean")) => {
                out.insert("type".into(), json!(t));
            }
            _ => {
                out.insert("$ref".into(), json!("pulumi.json#/Any"));
            }
        }
        out
    }
}

/// Drop the `null` alternative that `Option<T>` adds (`type: [T, "null"]` or `anyOf: [T, null]`).
fn strip_null(p: &Value) -> Value {
    let mut p = p.clone();
    if let Some(Value::Array(types)) = p.get("type").cloned() {
        let non_null: Vec<Value> = types.into_iter().filter(|t| t != "null").collect();
        if non_null.len() == 1 {
            p["type"] = non_null[0].clone();
        }
    }
    if let Some(Value::Array(any)) = p.get("anyOf").cloned() {
        let non_null: Vec<&Value> = any.iter().filter(|t| t.get("type") != Some(&json!("null"))).collect();
        if non_null.len() == 1 {
            let mut merged = non_null[0].clone();
            if let (Some(m), Some(d)) = (merged.as_object_mut(), p.get("description")) {
                m.insert("description".into(), d.clone());
            }
            return merged;
        }
    }
    p
}

/// `ON_DEMAND` → `OnDemand`, `perAz` → `PerAz`: the SDK member name of an enum value.
fn enum_member_name(v: &str) -> String {
    v.split(['_', '-'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let lower = if p.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
                p.to_ascii_lowercase()
            } else {
                p.to_string()
            };
            let mut cs = lower.chars();
            cs.next().map(|c| c.to_ascii_uppercase().to_string() + cs.as_str()).unwrap_or_default()
        })
        .collect()
}

/// A Pulumi enum type for a JSON Schema string enum (plain `enum` or documented `oneOf` consts).
fn enum_spec(def: &Value) -> Option<Value> {
    let mut values = Vec::new();
    if let Some(e) = def.get("enum").and_then(Value::as_array) {
        for v in e {
            values.push(json!({"name": enum_member_name(v.as_str()?), "value": v}));
        }
    } else if let Some(one) = def.get("oneOf").and_then(Value::as_array) {
        for v in one {
            let c = v.get("const")?;
            let mut item = Map::new();
            item.insert("name".into(), json!(enum_member_name(c.as_str()?)));
            item.insert("value".into(), c.clone());
            if let Some(d) = v.get("description") {
                item.insert("description".into(), d.clone());
            }
            values.push(Value::Object(item));
        }
    } else {
        return None;
    }
    let mut o = Map::new();
    o.insert("type".into(), json!("string"));
    if let Some(d) = def.get("description") {
        o.insert("description".into(), d.clone());
    }
    o.insert("enum".into(), Value::Array(values));
    Some(Value::Object(o))
}

/// The full package schema as a JSON value.
pub fn package_schema() -> Value {
    let mut b = Builder { types: Map::new() };

    let args = json_schema::<ClusterArgs>();
    let outs = json_schema::<ClusterOutputs>();
    let cfg = json_schema::<ProviderConfig>();
    b.register_defs(&args);
    b.register_defs(&outs);
    b.register_defs(&cfg);
    let empty = Map::new();
    let arg_defs = args.get("$defs").and_then(Value::as_object).unwrap_or(&empty);
    let out_defs = outs.get("$defs").and_then(Value::as_object).unwrap_or(&empty);
    let cfg_defs = cfg.get("$defs").and_then(Value::as_object).unwrap_or(&empty);

    let (inputs, mut required_inputs, x_req) = b.object_props(&args, arg_defs);
    required_inputs.extend(x_req);
    let (outputs, _, _) = b.object_props(&outs, out_defs);
    let (config_vars, _, _) = b.object_props(&cfg, cfg_defs);

    let mut resource = Map::new();
    resource.insert(
        "description".into(),
        args.get("description").cloned().unwrap_or(json!("")),
    );
    resource.insert("properties".into(), Value::Object(outputs));
    resource.insert("inputProperties".into(), Value::Object(inputs));
    resource.insert("requiredInputs".into(), json!(required_inputs));

    let mut resources = Map::new();
    resources.insert(CLUSTER_TOKEN.into(), Value::Object(resource));

    // getKubeconfig: a kubeconfig for another identity (crate::kubeconfig).
    let fn_args = json_schema::<crate::kubeconfig::GetKubeconfigArgs>();
    let fn_outs = json_schema::<crate::kubeconfig::GetKubeconfigResult>();
    let (fn_inputs, fn_required, _) = b.object_props(&fn_args, &empty);
    let (fn_outputs, fn_out_required, _) = b.object_props(&fn_outs, &empty);
    let mut functions = Map::new();
    functions.insert(
        crate::kubeconfig::GET_KUBECONFIG_TOKEN.into(),
        json!({
            "description": "A kubeconfig for an existing EKS cluster that authenticates through `aws eks get-token` as the given AWS profile and role (for example another team's role), without static credentials.",
            "inputs": {"properties": fn_inputs, "required": fn_required},
            "outputs": {"properties": fn_outputs, "required": fn_out_required}
        }),
    );

    if let Value::Object(audit) = audit_function() {
        functions.extend(audit);
    }
    json!({
        "name": PACKAGE,
        "displayName": "Secure EKS",
        "version": VERSION,
        "description": "A production Amazon EKS cluster that is secure by default and refuses bad configurations at `pulumi preview`.",
        "keywords": ["pulumi", "aws", "eks", "kubernetes", "security", "category/cloud", "kind/native"],
        "homepage": "https://github.com/secure-eks/pulumi-secure-eks",
        "repository": "https://github.com/secure-eks/pulumi-secure-eks",
        "license": "Apache-2.0",
        "publisher": "secure-eks",
        // The convention for third-party providers: the engine downloads
        // `pulumi-resource-secure-eks-v<version>-<os>-<arch>.tar.gz` from the GitHub release
        // `v<version>` of `secure-eks/pulumi-secure-eks` (the repository above). Every SDK carries
        // it in its pulumi-plugin.json / package.json, so installing an SDK is enough.
        "pluginDownloadURL": PLUGIN_DOWNLOAD_URL,
        "meta": {"moduleFormat": "(.*)"},
        "language": {
            "nodejs": {
                "packageName": "@secure-eks/pulumi",
                "packageDescription": "A secure-by-default Amazon EKS cluster for Pulumi.",
                "respectSchemaVersion": true
            },
            "python": {
                "packageName": "pulumi_secure_eks",
                "pyproject": {"enabled": true},
                "respectSchemaVersion": true
            },
            "go": {
                "importBasePath": GO_MODULE,
                "generateResourceContainerTypes": true,
                "respectSchemaVersion": true
            },
            "csharp": {
                // `SecureEks.Pulumi` (package and namespace), like npm's `@secure-eks/pulumi`:
                // the generator joins rootNamespace and the package's segment, and the `Pulumi.`
                // prefix is reserved on nuget.org for Pulumi's own packages.
                "rootNamespace": "SecureEks",
                "namespaces": {(PACKAGE): "Pulumi"},
                "packageReferences": {"Pulumi": "3.*"},
                "respectSchemaVersion": true
            }
        },
        "config": {"variables": config_vars.clone()},
        "provider": {
            "description": "The secure-eks provider: which AWS account and region, and how to reach it.",
            "inputProperties": config_vars
        },
        "types": with_audit_types(b.types),
        "resources": resources,
        "functions": functions
    })
}

/// The audit report's object types (`secure-eks:index:AuditFinding`, `...:AuditNotJudged`).
fn with_audit_types(mut types: Map<String, Value>) -> Map<String, Value> {
    let s = |d: &str| json!({"type": "string", "description": d});
    types.insert(
        token("AuditFinding"),
        json!({
            "type": "object",
            "description": "One finding of an audit: a rule (same id as at preview) and the observed resource it is about.",
            "properties": {
                "ruleId": s("The rule id, e.g. `SEKS-CP-001`."),
                "title": s("The rule's title."),
                "severity": s("`INFO`, `LOW`, `MEDIUM`, `HIGH` or `CRITICAL`."),
                "level": s("`error` (fails the audit) or `warning`."),
                "path": s("The path against the observed resources, e.g. `cluster.resourcesVpcConfig.publicAccessCidrs[0]` or `nodegroups.general.amiType`."),
                "message": s("What is wrong, what is expected, the fix, and the equivalent CIS/Checkov/Trivy checks."),
                "refs": {"type": "array", "items": {"type": "string"}, "description": "Equivalent checks elsewhere (CIS EKS Benchmark, Checkov, Trivy/AVD, EKS Best Practices)."}
            },
            "required": ["ruleId", "title", "severity", "level", "path", "message", "refs"]
        }),
    );
    types.insert(
        token("AuditNotJudged"),
        json!({
            "type": "object",
            "description": "A rule the audit could not judge from AWS state, and why.",
            "properties": {"ruleId": s("The rule id."), "reason": s("Why it was not judged.")},
            "required": ["ruleId", "reason"]
        }),
    );
    types
}

/// `secure-eks:index:auditCluster`: audit an existing EKS cluster, whoever built it.
fn audit_function() -> Value {
    let s = |d: &str| json!({"type": "string", "description": d});
    let mut f = Map::new();
    f.insert(
        token("auditCluster"),
        json!({
            "description": "Audit an existing EKS cluster (built by anything: pulumi-eks, Terraform, eksctl, the console) with the secure-eks rules, read-only. Findings carry the same rule ids as the preview-time checks, with paths against the observed resources; rules that cannot be judged from AWS state are listed with the reason.",
            "inputs": {
                "properties": {
                    "clusterName": s("The EKS cluster's name."),
                    "region": s("The cluster's region; the provider's region when absent.")
                },
                "required": ["clusterName"]
            },
            "outputs": {
                "properties": {
                    "clusterName": s("The cluster audited."),
                    "region": s("Its region."),
                    "failed": {"type": "boolean", "description": "True when an error-level rule failed."},
                    "findings": {"type": "array", "items": {"$ref": format!("#/types/{}", token("AuditFinding"))}, "description": "The findings."},
                    "rulesJudged": {"type": "array", "items": {"type": "string"}, "description": "The rule ids judged."},
                    "notJudged": {"type": "array", "items": {"$ref": format!("#/types/{}", token("AuditNotJudged"))}, "description": "The rules not judged, with why."}
                },
                "required": ["clusterName", "region", "failed", "findings", "rulesJudged", "notJudged"]
            }
        }),
    );
    Value::Object(f)
}

/// The schema as the exact text committed in `schema.json` and served by GetSchema.
pub fn package_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&package_schema()).unwrap_or_else(|_| "{}".to_string());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_schema_is_fresh() {
        let committed = include_str!("../../../schema.json");
        assert!(
            committed == super::package_schema_text(),
            "schema.json is stale: run `cargo run -p xtask -- schema`"
        );
    }
}

/// Decode provider config values by the schema: values that arrive as strings (`"true"`,
/// `"[...]"`, JSON objects) from `pulumi config set` or non-YAML SDKs become their declared type,
/// and numbers or booleans where a string is declared become strings (an account id set with
/// `pulumi config set --path` arrives as a number). Unknown keys and unparsable values are left
/// alone for the decoder to report.
pub fn coerce_config(map: &crate::value::PropertyMap) -> crate::value::PropertyMap {
    static SCHEMA: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let schema = SCHEMA.get_or_init(package_schema);
    let types = schema.get("types").cloned().unwrap_or_default();
    let vars = schema.pointer("/config/variables").cloned().unwrap_or_default();
    map.iter()
        .map(|(k, v)| {
            let v = match vars.get(k) {
                Some(spec) => coerce(v, spec, &types),
                None => v.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

fn coerce(v: &crate::value::Value, spec: &Value, types: &Value) -> crate::value::Value {
    use crate::value::Value as V;
    let spec = match spec.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/types/")) {
        Some(tok) => types.get(tok).unwrap_or(spec),
        None => spec,
    };
    let ty = spec.get("type").and_then(Value::as_str).unwrap_or("");
    match (ty, v) {
        (_, V::Secret(inner)) => V::Secret(Box::new(coerce(inner, spec, types))),
        ("string", V::Number(n)) if n.fract() == 0.0 => V::String(format!("{}", *n as i64)),
        ("string", V::Number(n)) => V::String(n.to_string()),
        ("string", V::Bool(b)) => V::String(b.to_string()),
        ("boolean" | "integer" | "number" | "array" | "object", V::String(s)) => {
            match serde_json::from_str::<Value>(s) {
                Ok(j) => coerce(&crate::codec::from_json(&j), spec, types),
                Err(_) => v.clone(),
            }
        }
        ("array", V::Array(items)) => {
            let item = spec.get("items").cloned().unwrap_or_default();
            V::Array(items.iter().map(|x| coerce(x, &item, types)).collect())
        }
        ("object", V::Object(m)) => V::Object(
            m.iter()
                .map(|(k, x)| {
                    let sub = spec
                        .get("properties")
                        .and_then(|p| p.get(k))
                        .or_else(|| spec.get("additionalProperties"))
                        .cloned()
                        .unwrap_or_default();
                    (k.clone(), coerce(x, &sub, types))
                })
                .collect(),
        ),
        _ => v.clone(),
    }
}

#[cfg(test)]
mod coerce_tests {
    use super::coerce_config;
    use crate::codec::from_json;
    use crate::value::Value;
    use serde_json::json;

    #[test]
    fn config_strings_and_numbers_follow_the_schema() {
        let Value::Object(m) = from_json(&json!({
            "skipCredentialsValidation": "true",
            "allowedAccountIds": [111111111111u64],
            "endpoints": "{\"sts\": \"http://x\"}",
            "assumeRole": "{\"roleArn\": \"arn:aws:iam::1:role/r\"}",
            "region": "us-east-1",
            "version": "0.1.0"
        })) else { panic!() };
        let out = Value::Object(coerce_config(&m));
        let expected = from_json(&json!({
            "skipCredentialsValidation": true,
            "allowedAccountIds": ["111111111111"],
            "endpoints": {"sts": "http://x"},
            "assumeRole": {"roleArn": "arn:aws:iam::1:role/r"},
            "region": "us-east-1",
            "version": "0.1.0"
        }));
        assert_eq!(out, expected);
    }
}
