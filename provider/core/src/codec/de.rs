//! The one-pass decode: a [`serde::Deserializer`] straight over a [`Value`] tree, for trees with
//! no unknown and no opaque value (every `up`, and most previews). Secrets (and known Outputs)
//! are seen through; their paths are collected by [`annotate`] without building a JSON tree.
//!
//! It visits exactly what `serde_json`'s deserializer visits over the tree [`super::strip`]
//! builds (integral numbers as integers, a string or a one-key object for an enum, `null` as
//! none), so a value it accepts decodes to the same thing; on any error the caller falls back to
//! the JSON path, which owns every error message and the placeholder repairs.

use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::Annotations;
use crate::value::{Path, Seg, UnknownKind, Value};

/// The annotations of a tree (what [`super::strip`] records), without the JSON copy.
pub(super) fn annotate(value: &Value) -> Annotations {
    fn walk(v: &Value, path: &mut Path, ann: &mut Annotations) {
        match v {
            Value::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    path.push(Seg::Index(i));
                    walk(x, path, ann);
                    path.pop();
                }
            }
            Value::Object(map) => {
                for (k, x) in map {
                    path.push(Seg::Key(k.clone()));
                    walk(x, path, ann);
                    path.pop();
                }
            }
            Value::Secret(inner) => {
                ann.secrets.insert(path.clone());
                walk(inner, path, ann);
            }
            Value::Unknown(kind) => {
                ann.unknowns.insert(path.clone(), *kind);
            }
            Value::Output(o) => {
                if o.secret {
                    ann.secrets.insert(path.clone());
                }
                match &o.value {
                    Some(x) => walk(x, path, ann),
                    None => {
                        ann.unknowns.insert(path.clone(), UnknownKind::String);
                    }
                }
            }
            Value::ResourceRef(_) | Value::Asset(_) | Value::Archive(_) => {
                ann.opaque.insert(path.clone(), v.clone());
            }
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
        }
    }
    let mut ann = Annotations::default();
    walk(value, &mut Path::root(), &mut ann);
    ann
}

/// Why the one-pass decode gave up (the caller then takes the JSON path).
#[derive(Debug)]
pub(super) struct Fallback;

impl fmt::Display for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not decodable in one pass")
    }
}

impl std::error::Error for Fallback {}

impl de::Error for Fallback {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Fallback
    }
}

/// A deserializer over a tree with no unknown or opaque value.
#[derive(Clone, Copy)]
pub(super) struct Tree<'a>(pub &'a Value);

impl<'a> Tree<'a> {
    /// The value with secret and known-Output wrappers removed.
    fn plain(self) -> Result<&'a Value, Fallback> {
        let mut v = self.0;
        loop {
            v = match v {
                Value::Secret(inner) => inner,
                Value::Output(o) => o.value.as_deref().ok_or(Fallback)?,
                Value::Unknown(_) | Value::ResourceRef(_) | Value::Asset(_) | Value::Archive(_) => return Err(Fallback),
                other => return Ok(other),
            };
        }
    }
}

impl<'de> de::Deserializer<'de> for Tree<'de> {
    type Error = Fallback;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match self.plain()? {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            // As `number_to_json`: integral values are integers (serde_json keeps non-negative
            // ones as u64), the rest floats, and non-finite ones null.
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => {
                let i = *n as i64;
                if i >= 0 {
                    visitor.visit_u64(i as u64)
                } else {
                    visitor.visit_i64(i)
                }
            }
            Value::Number(n) if n.is_finite() => visitor.visit_f64(*n),
            Value::Number(_) => visitor.visit_unit(),
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => {
                let mut seq = Seq(items.iter());
                let v = visitor.visit_seq(&mut seq)?;
                if seq.0.len() == 0 {
                    Ok(v)
                } else {
                    Err(Fallback)
                }
            }
            Value::Object(map) => {
                let mut m = Map { it: map.iter(), value: None };
                let v = visitor.visit_map(&mut m)?;
                if m.it.len() == 0 {
                    Ok(v)
                } else {
                    Err(Fallback)
                }
            }
            _ => Err(Fallback),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match self.plain()? {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Fallback> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(self, _name: &'static str, _variants: &'static [&'static str], visitor: V) -> Result<V::Value, Fallback> {
        match self.plain()? {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            Value::Object(map) if map.len() == 1 => {
                let Some((k, v)) = map.iter().next() else { return Err(Fallback) };
                visitor.visit_enum(Variant { name: k, value: Tree(v) })
            }
            _ => Err(Fallback),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        visitor.visit_unit()
    }

    // serde_json takes only a string where a string is asked for (a number is no field name).
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match self.plain()? {
            Value::String(s) => visitor.visit_borrowed_str(s),
            _ => Err(Fallback),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        self.deserialize_str(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        self.deserialize_str(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct
    }
}

struct Seq<'a>(std::slice::Iter<'a, Value>);

impl<'de> de::SeqAccess<'de> for Seq<'de> {
    type Error = Fallback;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Fallback> {
        match self.0.next() {
            Some(v) => seed.deserialize(Tree(v)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Map<'a> {
    it: std::collections::btree_map::Iter<'a, String, Value>,
    value: Option<&'a Value>,
}

impl<'de> de::MapAccess<'de> for Map<'de> {
    type Error = Fallback;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Fallback> {
        match self.it.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(de::value::BorrowedStrDeserializer::<Fallback>::new(k)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Fallback> {
        let v = self.value.take().ok_or(Fallback)?;
        seed.deserialize(Tree(v))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.it.len())
    }
}

struct Variant<'a> {
    name: &'a str,
    value: Tree<'a>,
}

impl<'de> de::EnumAccess<'de> for Variant<'de> {
    type Error = Fallback;
    type Variant = Tree<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Tree<'de>), Fallback> {
        let name = seed.deserialize(de::value::BorrowedStrDeserializer::<Fallback>::new(self.name))?;
        Ok((name, self.value))
    }
}

impl<'de> de::VariantAccess<'de> for Tree<'de> {
    type Error = Fallback;

    fn unit_variant(self) -> Result<(), Fallback> {
        match self.plain()? {
            Value::Null => Ok(()),
            _ => Err(Fallback),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Fallback> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Fallback> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(self, _fields: &'static [&'static str], visitor: V) -> Result<V::Value, Fallback> {
        de::Deserializer::deserialize_any(self, visitor)
    }
}
