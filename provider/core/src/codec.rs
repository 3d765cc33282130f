//! Typed decoding of property values with a side table.
//!
//! [`decode`] strips secrets, unknowns and other special values out of a [`Value`] tree,
//! remembering where they were in [`Annotations`], and deserializes the plain remainder into a
//! serde type. [`encode`] serializes a typed value and puts the annotations back, so a secret
//! stays secret and an unknown stays unknown across Check, even after defaults were applied.

use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

use crate::value::{Path, PropertyMap, Seg, UnknownKind, Value};

/// Where the special values of a property tree were.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Annotations {
    /// Paths whose value was secret.
    pub secrets: BTreeSet<Path>,
    /// Paths whose value was unknown, with the engine's type hint.
    pub unknowns: BTreeMap<Path, UnknownKind>,
    /// Paths holding values with no plain form (resource references, assets, archives), kept verbatim.
    pub opaque: BTreeMap<Path, Value>,
}

impl Annotations {
    /// True when the value at `path` is unknown, or lies inside an unknown value.
    pub fn is_unknown(&self, path: &Path) -> bool {
        self.unknowns.keys().any(|u| u.is_prefix_of(path))
    }

    /// True when anything at or below `path` is unknown, or `path` lies inside an unknown value.
    pub fn touches_unknown(&self, path: &Path) -> bool {
        self.unknowns
            .keys()
            .any(|u| u.is_prefix_of(path) || path.is_prefix_of(u))
    }

    /// The unknown paths at or below `path`, or the unknown ancestor covering it.
    pub fn unknowns_under(&self, path: &Path) -> Vec<Path> {
        self.unknowns
            .keys()
            .filter(|u| u.is_prefix_of(path) || path.is_prefix_of(u))
            .cloned()
            .collect()
    }

    /// True when the value at `path` is secret, or lies inside a secret.
    pub fn is_secret(&self, path: &Path) -> bool {
        self.secrets.iter().any(|s| s.is_prefix_of(path))
    }

    /// True when there is nothing special in the tree.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty() && self.unknowns.is_empty() && self.opaque.is_empty()
    }
}

/// A typed value and the annotations stripped from it.
#[derive(Debug, Clone)]
pub struct Decoded<T> {
    /// The typed value. Fields that were unknown decode as absent.
    pub value: T,
    /// Where secrets, unknowns and opaque values were.
    pub annotations: Annotations,
}

/// Why a property tree did not fit its type.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("{path}: {message}")]
pub struct DecodeError {
    /// The property path of the offending value (empty for the root).
    pub path: Path,
    /// What serde said.
    pub message: String,
}

/// Why a typed value could not be turned back into a property tree.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// serde refused the value.
    #[error("cannot serialize value: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// The property names a type's schema marks secret (`"secret": true`), wherever they occur in
/// its tree (e.g. `userData` of every node group). [`decode`] treats a value under such a name as
/// secret even when the engine sent it in plain text: [`encode`] gives it back wrapped, and a
/// decode error never quotes it. Each list is checked against the schema by a test.
pub trait SecretFields {
    /// The camelCase property names.
    const SECRET_FIELDS: &'static [&'static str];
}

/// Mark every value under a [`SecretFields`] name as secret.
fn mark_schema_secrets(json: &serde_json::Value, path: &Path, names: &[&str], ann: &mut Annotations) {
    match json {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let child = path.k(k.clone());
                if names.contains(&k.as_str()) && !v.is_null() {
                    ann.secrets.insert(child.clone());
                }
                mark_schema_secrets(v, &child, names, ann);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                mark_schema_secrets(v, &path.i(i), names, ann);
            }
        }
        _ => {}
    }
}

/// [`mark_schema_secrets`] over the tree itself (the one-pass decode has no JSON copy); a secret
/// wrapper is transparent, as in the stripped JSON.
fn mark_schema_secrets_tree(value: &Value, path: &Path, names: &[&str], ann: &mut Annotations) {
    if names.is_empty() {
        return;
    }
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                let child = path.k(k.clone());
                if names.contains(&k.as_str()) && !matches!(v, Value::Null) {
                    ann.secrets.insert(child.clone());
                }
                mark_schema_secrets_tree(v, &child, names, ann);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                mark_schema_secrets_tree(v, &path.i(i), names, ann);
            }
        }
        Value::Secret(inner) => mark_schema_secrets_tree(inner, path, names, ann),
        _ => {}
    }
}

/// A serde message about a secret value, without the value: only what was expected.
fn redacted(message: &str) -> String {
    match message.rfind(", expected ") {
        Some(i) => format!("the value is secret and not shown here; it does not fit the schema: {}", &message[i + 2..]),
        None => "the value is secret and not shown here; it does not fit the schema".to_string(),
    }
}

/// Split a tree into its plain JSON form and the annotations.
pub fn strip(value: &Value) -> (serde_json::Value, Annotations) {
    let mut ann = Annotations::default();
    let json = strip_at(value, &mut Path::root(), &mut ann);
    (json, ann)
}

/// Split a property map into its plain JSON object and the annotations.
pub fn strip_map(map: &PropertyMap) -> (serde_json::Value, Annotations) {
    strip(&Value::Object(map.clone()))
}

/// `path` is the walk's one path stack: extended for each child and restored after it, and
/// cloned only into the annotations.
fn strip_at(value: &Value, path: &mut Path, ann: &mut Annotations) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Number(n) => number_to_json(*n),
        Value::String(s) => J::String(s.clone()),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, v) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                out.push(strip_at(v, path, ann));
                path.pop();
            }
            J::Array(out)
        }
        Value::Object(map) => {
            let mut out = serde_json::Map::with_capacity(map.len());
            for (k, v) in map {
                path.push(Seg::Key(k.clone()));
                let j = strip_at(v, path, ann);
                // Unknown and opaque members are left out, so they decode as absent fields.
                let special = (!ann.unknowns.is_empty() && ann.unknowns.contains_key(path))
                    || (!ann.opaque.is_empty() && ann.opaque.contains_key(path));
                path.pop();
                if !special {
                    out.insert(k.clone(), j);
                }
            }
            J::Object(out)
        }
        Value::Secret(inner) => {
            ann.secrets.insert(path.clone());
            strip_at(inner, path, ann)
        }
        Value::Unknown(kind) => {
            ann.unknowns.insert(path.clone(), *kind);
            J::Null
        }
        Value::Output(o) => {
            if o.secret {
                ann.secrets.insert(path.clone());
            }
            match &o.value {
                Some(v) => strip_at(v, path, ann),
                None => {
                    ann.unknowns.insert(path.clone(), UnknownKind::String);
                    J::Null
                }
            }
        }
        Value::ResourceRef(_) | Value::Asset(_) | Value::Archive(_) => {
            ann.opaque.insert(path.clone(), value.clone());
            J::Null
        }
    }
}

fn number_to_json(n: f64) -> serde_json::Value {
    // Integral values become JSON integers so they deserialize into integer fields.
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)
    }
}

/// Convert plain JSON to a tree (no annotations).
pub fn from_json(json: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match json {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
        J::String(s) => Value::String(s.clone()),
        J::Array(a) => Value::Array(a.iter().map(from_json).collect()),
        J::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
    }
}

/// Put annotations back into a plain JSON tree.
///
/// Unknown and opaque values are restored at their paths when the parent still exists (an
/// unknown replaces any default that was filled in meanwhile); secrets are re-wrapped where the
/// path still exists.
pub fn restore(json: &serde_json::Value, ann: &Annotations) -> Value {
    let mut tree = from_json(json);
    restore_tree(&mut tree, ann);
    tree
}

/// [`restore`] on a tree.
fn restore_tree(tree: &mut Value, ann: &Annotations) {
    for (path, kind) in &ann.unknowns {
        set_at(tree, path, Value::Unknown(*kind));
    }
    for (path, v) in &ann.opaque {
        set_at(tree, path, v.clone());
    }
    // Wrap deepest first, so an outer secret wraps an already wrapped inner one.
    let mut secrets: Vec<&Path> = ann.secrets.iter().collect();
    secrets.sort_by_key(|p| std::cmp::Reverse(p.segments().len()));
    for path in secrets {
        wrap_secret_at(tree, path);
    }
}

fn slot<'a>(tree: &'a mut Value, path: &Path) -> Option<&'a mut Value> {
    let mut cur = tree;
    for seg in path.segments() {
        if let Value::Secret(inner) = cur {
            cur = inner.as_mut();
        }
        cur = match (cur, seg) {
            (Value::Object(m), Seg::Key(k)) => m.get_mut(k)?,
            (Value::Array(a), Seg::Index(i)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn set_at(tree: &mut Value, path: &Path, v: Value) {
    let Some(parent_path) = path.parent() else {
        *tree = v;
        return;
    };
    let Some(parent) = slot(tree, &parent_path) else {
        return;
    };
    let parent = match parent {
        Value::Secret(inner) => inner.as_mut(),
        other => other,
    };
    match (parent, path.last()) {
        (Value::Object(m), Some(Seg::Key(k))) => {
            m.insert(k.clone(), v);
        }
        (Value::Array(a), Some(Seg::Index(i))) if *i < a.len() => {
            a[*i] = v;
        }
        _ => {}
    }
}

fn wrap_secret_at(tree: &mut Value, path: &Path) {
    if let Some(target) = slot(tree, path) {
        if !matches!(target, Value::Secret(_)) {
            let inner = std::mem::replace(target, Value::Null);
            *target = Value::Secret(Box::new(inner));
        }
    }
}

/// How deep a property tree may nest (arrays, objects, secrets and outputs each count one
/// level). No input of ours needs more than a handful; the cap keeps the recursive walks (and
/// serde) far from the stack limit whatever a caller builds. The wire conversion applies the same
/// cap before it builds a tree.
pub const MAX_DEPTH: u32 = 64;

/// The path of the first value nested deeper than `budget` more levels, if any. Recursion stops
/// at the cap, so this is safe on any tree; it allocates only when it finds one.
pub fn too_deep(value: &Value, budget: u32) -> Option<Path> {
    fn exceeds(v: &Value, budget: u32) -> bool {
        let deeper = |c: &Value| budget == 0 || exceeds(c, budget - 1);
        match v {
            Value::Array(a) => budget == 0 || a.iter().any(deeper),
            Value::Object(m) => budget == 0 || m.values().any(deeper),
            Value::Secret(inner) => deeper(inner),
            Value::Output(o) => o.value.as_deref().is_some_and(deeper),
            Value::Archive(a) => a.assets.as_ref().is_some_and(|m| budget == 0 || m.values().any(deeper)),
            _ => false,
        }
    }
    fn locate(v: &Value, path: Path, budget: u32) -> Path {
        let next = |c: &Value, p: Path| (budget > 0 && exceeds(c, budget - 1)).then(|| locate(c, p, budget - 1));
        let found = match v {
            Value::Array(a) => a.iter().enumerate().find_map(|(i, c)| next(c, path.i(i))),
            Value::Object(m) => m.iter().find_map(|(k, c)| next(c, path.k(k.clone()))),
            Value::Secret(inner) => next(inner, path.clone()),
            Value::Output(o) => o.value.as_deref().and_then(|c| next(c, path.clone())),
            Value::Archive(a) => a.assets.as_ref().and_then(|m| m.iter().find_map(|(k, c)| next(c, path.k(k.clone())))),
            _ => None,
        };
        found.unwrap_or(path)
    }
    exceeds(value, budget).then(|| locate(value, Path::root(), budget))
}

/// The most placeholder repairs one decode makes (see [`decode`]): each costs a pass over the
/// tree, so an input with thousands of unknowns where the type has no room for them is refused
/// instead of taking quadratic time. Real programs have a few.
pub const MAX_REPAIRS: usize = 1_000;

/// Decode a tree into a typed value, keeping the side table.
///
/// Unknown values decode as absent. Where the type has no room for "absent" (a required field,
/// a list element), a placeholder of the type the type wants is tried instead (`""`, `0`,
/// `false`, `[]`, `{}`); rules never read it, because the annotations say the path is unknown.
/// A tree nested deeper than [`MAX_DEPTH`], or needing more than [`MAX_REPAIRS`] placeholders, is
/// refused with an error saying so.
pub fn decode<T: DeserializeOwned + SecretFields>(value: &Value) -> Result<Decoded<T>, DecodeError> {
    if let Some(path) = too_deep(value, MAX_DEPTH) {
        return Err(DecodeError {
            path,
            message: format!("the value is nested more than {MAX_DEPTH} levels deep; no input of this resource needs that: flatten it"),
        });
    }
    // One pass when nothing is unknown or opaque: straight from the tree to `T`.
    let mut annotations = de::annotate(value);
    if annotations.unknowns.is_empty() && annotations.opaque.is_empty() {
        if let Ok(decoded) = T::deserialize(de::Tree(value)) {
            mark_schema_secrets_tree(value, &Path::root(), T::SECRET_FIELDS, &mut annotations);
            return Ok(Decoded { value: decoded, annotations });
        }
    }
    decode_json(value)
}

/// [`decode`] through a plain JSON copy of the tree: every error message and the placeholder
/// repairs for unknowns come from here.
fn decode_json<T: DeserializeOwned + SecretFields>(value: &Value) -> Result<Decoded<T>, DecodeError> {
    let (mut json, mut annotations) = strip(value);
    mark_schema_secrets(&json, &Path::root(), T::SECRET_FIELDS, &mut annotations);
    let annotations = annotations;
    let mut repairs = 0usize;
    let placeholders = [json!(""), json!(0), json!(false), json!([]), json!({})];
    let mut tried: BTreeMap<Path, usize> = BTreeMap::new();
    let mut variant_tried: BTreeSet<Path> = BTreeSet::new();
    loop {
        // From a borrow: the tree is read, not cloned, on every attempt.
        let err = match serde_path_to_error::deserialize::<_, T>(&json) {
            Ok(value) => return Ok(Decoded { value, annotations }),
            Err(e) => e,
        };
        let mut path = parse_serde_path(&err.path().to_string());
        let message = err.inner().to_string();
        if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
        {
            path = path.k(field);
        }
        // Inside an unknown value (or at one), any placeholder will do: rules defer there.
        let repairable = annotations.is_unknown(&path)
            || annotations.opaque.keys().any(|o| o.is_prefix_of(&path));
        // An enum wants one of its own values: serde names them in the message.
        if repairable {
            if let Some(v) = first_expected_variant(&message) {
                if variant_tried.insert(path.clone()) && set_json(&mut json, &path, json!(v)) {
                    repairs += 1;
                    for u in same_shape(&annotations, &path) {
                        if variant_tried.insert(u.clone()) {
                            set_json(&mut json, &u, json!(v));
                        }
                    }
                    continue;
                }
            }
        }
        repairs += 1;
        if repairable && repairs > MAX_REPAIRS {
            return Err(DecodeError {
                path,
                message: format!("more than {MAX_REPAIRS} unknown values where the type needs a value; pass fewer unknown values (e.g. known list lengths)"),
            });
        }
        let n = tried.entry(path.clone()).or_insert(0);
        if !repairable || *n >= placeholders.len() || !set_json(&mut json, &path, placeholders[*n].clone()) {
            // serde quotes the bad value: never a secret one.
            let message = if annotations.is_secret(&path) { redacted(&message) } else { message };
            return Err(DecodeError { path, message });
        }
        *n += 1;
        // Unknowns at the same place in the other elements of a list want the same placeholder:
        // fill them in now, so that N unknown node group names take a few passes, not N.
        let (next, placeholder) = (*n, placeholders[*n - 1].clone());
        for u in same_shape(&annotations, &path) {
            if tried.get(&u).copied().unwrap_or(0) < next && set_json(&mut json, &u, placeholder.clone()) {
                tried.insert(u, next);
            }
        }
    }
}

/// The other unknown paths that differ from `path` only in list indices.
fn same_shape(annotations: &Annotations, path: &Path) -> Vec<Path> {
    let shape = |p: &Path| -> Vec<Option<String>> {
        p.segments()
            .iter()
            .map(|s| match s {
                Seg::Key(k) => Some(k.clone()),
                Seg::Index(_) => None,
            })
            .collect()
    };
    if !path.segments().iter().any(|s| matches!(s, Seg::Index(_))) {
        return Vec::new();
    }
    let want = shape(path);
    annotations.unknowns.keys().filter(|u| *u != path && shape(u) == want).cloned().collect()
}

/// From serde's "unknown variant `x`, expected `A` or `B`" (or "expected one of `A`, `B`"), `A`.
fn first_expected_variant(message: &str) -> Option<String> {
    if !message.starts_with("unknown variant") {
        return None;
    }
    let rest = message.split_once("expected")?.1;
    let start = rest.find('`')? + 1;
    let end = rest[start..].find('`')? + start;
    Some(rest[start..end].to_string())
}

fn set_json(json: &mut serde_json::Value, path: &Path, v: serde_json::Value) -> bool {
    let Some(parent) = path.parent() else {
        *json = v;
        return true;
    };
    let mut cur = json;
    for seg in parent.segments() {
        cur = match (cur, seg) {
            (serde_json::Value::Object(m), Seg::Key(k)) => match m.get_mut(k) {
                Some(x) => x,
                None => return false,
            },
            (serde_json::Value::Array(a), Seg::Index(i)) => match a.get_mut(*i) {
                Some(x) => x,
                None => return false,
            },
            _ => return false,
        };
    }
    match (cur, path.last()) {
        (serde_json::Value::Object(m), Some(Seg::Key(k))) => {
            m.insert(k.clone(), v);
            true
        }
        (serde_json::Value::Array(a), Some(Seg::Index(i))) if *i < a.len() => {
            a[*i] = v;
            true
        }
        _ => false,
    }
}

/// Encode a typed value and put the annotations back.
pub fn encode<T: Serialize>(value: &T, annotations: &Annotations) -> Result<Value, EncodeError> {
    // Straight to the tree (`codec/ser.rs`), as `restore(&serde_json::to_value(value)?, ..)`.
    let mut tree = ser::to_tree(value)?;
    restore_tree(&mut tree, annotations);
    Ok(tree)
}

/// Turn serde_path_to_error's `a.b[0].c` (or `.` for the root) into a [`Path`].
fn parse_serde_path(s: &str) -> Path {
    let mut segs = Vec::new();
    if s == "." || s.is_empty() {
        return Path::root();
    }
    for part in s.split('.') {
        let mut rest = part;
        if let Some(idx) = rest.find('[') {
            let (name, tail) = rest.split_at(idx);
            if !name.is_empty() {
                segs.push(Seg::Key(name.to_string()));
            }
            rest = tail;
            while let Some(stripped) = rest.strip_prefix('[') {
                let end = stripped.find(']').unwrap_or(stripped.len());
                if let Ok(i) = stripped[..end].parse::<usize>() {
                    segs.push(Seg::Index(i));
                }
                rest = stripped.get(end + 1..).unwrap_or("");
            }
        } else if !rest.is_empty() && rest != "?" {
            segs.push(Seg::Key(rest.to_string()));
        }
    }
    Path::from_segments(segs)
}

mod de;
mod ser;

#[cfg(test)]
mod tests;
