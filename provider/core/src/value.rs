//! The property value tree: what a Pulumi property can hold, without any wire types.
//!
//! The protocol layer converts `google.protobuf.Struct` to and from [`Value`]; everything
//! above it works on this tree (or on typed structs decoded from it, see [`crate::codec`]).

use std::collections::BTreeMap;
use std::fmt;

/// A property map: top-level input or output keys to values.
pub type PropertyMap = BTreeMap<String, Value>;

/// One property value, including Pulumi's special values.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// JSON null, or an absent optional value.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number (the wire carries doubles only).
    Number(f64),
    /// A UTF-8 string.
    String(String),
    /// A list.
    Array(Vec<Value>),
    /// An object.
    Object(PropertyMap),
    /// A secret wrapping another value.
    Secret(Box<Value>),
    /// A value not known yet (only during preview). The kind is the type hint the engine sent.
    Unknown(UnknownKind),
    /// A reference to another resource.
    ResourceRef(ResourceRef),
    /// An asset (file-like value).
    Asset(Asset),
    /// An archive (a set of assets).
    Archive(Archive),
    /// An output value with dependencies; `value: None` means unknown.
    Output(OutputValue),
}

/// The type hint carried by an unknown value. The engine has one sentinel per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnknownKind {
    /// Unknown boolean.
    Bool,
    /// Unknown number.
    Number,
    /// Unknown string (the one the engine normally sends).
    String,
    /// Unknown array.
    Array,
    /// Unknown asset.
    Asset,
    /// Unknown archive.
    Archive,
    /// Unknown object.
    Object,
}

impl UnknownKind {
    /// Every kind, in a fixed order.
    pub const ALL: [UnknownKind; 7] = [
        UnknownKind::Bool,
        UnknownKind::Number,
        UnknownKind::String,
        UnknownKind::Array,
        UnknownKind::Asset,
        UnknownKind::Archive,
        UnknownKind::Object,
    ];
}

/// A resource reference.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourceRef {
    /// The referenced resource's URN.
    pub urn: String,
    /// Its ID; `Some("")` means the ID is unknown; `None` for component resources.
    pub id: Option<String>,
    /// The package version that defined the resource type, if given.
    pub package_version: Option<String>,
    /// Any other fields the engine sent (`name`, `type`), kept for round-tripping.
    pub extra: BTreeMap<String, String>,
}

/// An asset: a hash and one of text, path or uri.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Asset {
    /// Content hash (may be empty when elided).
    pub hash: Option<String>,
    /// Literal text contents.
    pub text: Option<String>,
    /// A local file path.
    pub path: Option<String>,
    /// A remote URI.
    pub uri: Option<String>,
}

/// An archive: a hash and one of assets, path or uri.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Archive {
    /// Content hash (may be empty when elided).
    pub hash: Option<String>,
    /// Named assets or nested archives.
    pub assets: Option<BTreeMap<String, Value>>,
    /// A local file path.
    pub path: Option<String>,
    /// A remote URI.
    pub uri: Option<String>,
}

/// An output value: a value (absent when unknown), whether it is secret, and its dependencies.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutputValue {
    /// The value; `None` when it is not known yet.
    pub value: Option<Box<Value>>,
    /// Whether the value is secret.
    pub secret: bool,
    /// URNs this value depends on.
    pub dependencies: Vec<String>,
}

impl Value {
    /// True when this value, or anything inside it, is unknown.
    pub fn contains_unknowns(&self) -> bool {
        match self {
            Value::Unknown(_) => true,
            Value::Array(items) => items.iter().any(Value::contains_unknowns),
            Value::Object(map) => map.values().any(Value::contains_unknowns),
            Value::Secret(inner) => inner.contains_unknowns(),
            Value::Output(o) => o.value.as_ref().is_none_or(|v| v.contains_unknowns()),
            Value::Archive(a) => a
                .assets
                .as_ref()
                .is_some_and(|m| m.values().any(Value::contains_unknowns)),
            _ => false,
        }
    }

    /// True when this value, or anything inside it, is secret.
    pub fn contains_secrets(&self) -> bool {
        match self {
            Value::Secret(_) => true,
            Value::Output(o) => o.secret || o.value.as_ref().is_some_and(|v| v.contains_secrets()),
            Value::Array(items) => items.iter().any(Value::contains_secrets),
            Value::Object(map) => map.values().any(Value::contains_secrets),
            _ => false,
        }
    }

    /// The value with every secret wrapper removed (used where the engine's contract is plain values).
    pub fn unsecret(&self) -> Value {
        match self {
            Value::Secret(inner) => inner.unsecret(),
            Value::Array(items) => Value::Array(items.iter().map(Value::unsecret).collect()),
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), v.unsecret())).collect())
            }
            other => other.clone(),
        }
    }

    /// Borrow the string inside, if this is a plain string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Borrow the object inside, if this is an object.
    pub fn as_object(&self) -> Option<&PropertyMap> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Look up a value by path.
    pub fn get_path(&self, path: &Path) -> Option<&Value> {
        let mut cur = self;
        for seg in path.segments() {
            cur = match (cur, seg) {
                (Value::Secret(inner), _) => match (&**inner, seg) {
                    (Value::Object(m), Seg::Key(k)) => m.get(k)?,
                    (Value::Array(a), Seg::Index(i)) => a.get(*i)?,
                    _ => return None,
                },
                (Value::Object(m), Seg::Key(k)) => m.get(k)?,
                (Value::Array(a), Seg::Index(i)) => a.get(*i)?,
                _ => return None,
            };
        }
        Some(cur)
    }
}

/// One step of a property path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    /// An object key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// A property path such as `nodeGroups[0].imdsHopLimit`, in the engine's path syntax.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Path(Vec<Seg>);

impl Path {
    /// The empty path (the root).
    pub fn root() -> Self {
        Path(Vec::new())
    }

    /// A path of one top-level key.
    pub fn key(k: impl Into<String>) -> Self {
        Path(vec![Seg::Key(k.into())])
    }

    /// This path extended by an object key.
    pub fn k(&self, k: impl Into<String>) -> Self {
        let mut v = self.0.clone();
        v.push(Seg::Key(k.into()));
        Path(v)
    }

    /// This path extended by a list index.
    pub fn i(&self, i: usize) -> Self {
        let mut v = self.0.clone();
        v.push(Seg::Index(i));
        Path(v)
    }

    /// Extend this path in place (a walk's path stack; see [`Path::pop`]).
    pub fn push(&mut self, seg: Seg) {
        self.0.push(seg);
    }

    /// Drop the last segment in place.
    pub fn pop(&mut self) -> Option<Seg> {
        self.0.pop()
    }

    /// The segments.
    pub fn segments(&self) -> &[Seg] {
        &self.0
    }

    /// The top-level key, if the path starts with one.
    pub fn top(&self) -> Option<&str> {
        match self.0.first() {
            Some(Seg::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// True when `self` equals `other` or lies above it.
    pub fn is_prefix_of(&self, other: &Path) -> bool {
        other.0.len() >= self.0.len() && other.0[..self.0.len()] == self.0[..]
    }

    /// The parent path, or `None` for the root.
    pub fn parent(&self) -> Option<Path> {
        if self.0.is_empty() {
            None
        } else {
            Some(Path(self.0[..self.0.len() - 1].to_vec()))
        }
    }

    /// The last segment.
    pub fn last(&self) -> Option<&Seg> {
        self.0.last()
    }

    /// Parse the engine's path syntax: `a.b[0]["key.with.dots"]`. Returns `None` on bad syntax.
    pub fn parse(s: &str) -> Option<Path> {
        let mut segs = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'.' => i += 1,
                b'[' => {
                    let rest = &s[i + 1..];
                    if rest.starts_with('"') {
                        let mut de = serde_json::Deserializer::from_str(rest).into_iter::<String>();
                        let key = de.next()?.ok()?;
                        let used = de.byte_offset();
                        segs.push(Seg::Key(key));
                        i += 1 + used;
                    } else {
                        let end = rest.find(']')?;
                        segs.push(Seg::Index(rest[..end].parse().ok()?));
                        i += 1 + end;
                    }
                    if b.get(i) != Some(&b']') {
                        return None;
                    }
                    i += 1;
                }
                _ => {
                    let end = s[i..].find(['.', '[']).map_or(s.len(), |e| i + e);
                    segs.push(Seg::Key(s[i..end].to_string()));
                    i = end;
                }
            }
        }
        Some(Path(segs))
    }

    /// Build a path from segments.
    pub fn from_segments(segs: Vec<Seg>) -> Self {
        Path(segs)
    }
}

fn is_plain_key(k: &str) -> bool {
    !k.is_empty()
        && k
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$' || c == '/')
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if is_plain_key(k) => {
                    if n > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Seg::Key(k) => {
                    write!(f, "[{}]", serde_json::Value::String(k.clone()))?;
                }
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}
