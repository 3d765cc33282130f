//! Every string of the checked spec, visited in one pass without building a JSON tree.
//!
//! The rules that look at all strings at once (leaked Output text, world-open CIDRs) used to
//! serialize the whole spec to a `serde_json::Value` each and walk it, cloning a [`Path`] at
//! every node. Here the spec is fed to a [`serde::Serializer`] that keeps one path stack and
//! calls the rules at each string, in the order (and at the paths) `serde_json::to_value` would
//! produce; [`super::evaluate`] runs one walk for all such rules together.

use std::fmt;

use serde::ser::{self, Serialize};

use super::{Finding, Outcome, RuleCtx};
use crate::value::{Path, Seg};

/// A rule that judges every string input (after defaults) and defers on every unknown.
pub trait StringRule: Sync {
    /// True when the rule does not look at `path` or anything below it.
    fn skip(&self, path: &Path) -> bool;
    /// A finding for the known string `s` at `path`, if it is bad.
    fn judge(&self, path: &Path, s: &str) -> Option<Finding>;
}

/// Run `rules` over `ctx` in one walk: for each rule, the unknown paths it does not skip
/// (deferred), then its findings in serialization order.
pub(crate) fn scan(ctx: &RuleCtx<'_>, rules: &[&dyn StringRule]) -> Vec<Vec<Outcome>> {
    let mut out: Vec<Vec<Outcome>> = rules
        .iter()
        .map(|r| {
            ctx.annotations
                .unknowns
                .keys()
                .filter(|p| !r.skip(p))
                .map(|p| Outcome::Deferred(p.clone()))
                .collect()
        })
        .collect();
    let mut v = Judge { rules, out: &mut out, active: Vec::new() };
    // The model always serializes (string keys only); an error would only cut the walk short.
    let _ = visit_strings(ctx.spec, &mut v);
    out
}

struct Judge<'a> {
    rules: &'a [&'a dyn StringRule],
    out: &'a mut Vec<Vec<Outcome>>,
    /// Per open node: which rules still look at it (bit i: rule i).
    active: Vec<u64>,
}

impl Visit for Judge<'_> {
    fn enter(&mut self, path: &Path) -> bool {
        let parent = self.active.last().copied().unwrap_or(u64::MAX);
        let mut mask = 0u64;
        for (i, r) in self.rules.iter().enumerate().take(64) {
            if parent & (1 << i) != 0 && !r.skip(path) {
                mask |= 1 << i;
            }
        }
        if mask == 0 {
            return false;
        }
        self.active.push(mask);
        true
    }

    fn leave(&mut self) {
        self.active.pop();
    }

    fn string(&mut self, path: &Path, s: &str) {
        let mask = self.active.last().copied().unwrap_or(0);
        for (i, r) in self.rules.iter().enumerate().take(64) {
            if mask & (1 << i) != 0 {
                if let Some(f) = r.judge(path, s) {
                    self.out[i].push(Outcome::Fail(f));
                }
            }
        }
    }
}

/// What [`visit_strings`] calls. `enter` is called for every array, object and string before
/// its contents; `false` skips the node (and then `leave` is not called for it).
pub(crate) trait Visit {
    /// Whether to look at the node at `path`.
    fn enter(&mut self, path: &Path) -> bool;
    /// The end of a node `enter` accepted.
    fn leave(&mut self);
    /// A string at `path` (inside an accepted node).
    fn string(&mut self, path: &Path, s: &str);
}

/// Walk the strings of `value` as `serde_json::to_value(value)` would lay them out (unit enum
/// variants are strings; newtype, tuple and struct variants are one-key objects).
pub(crate) fn visit_strings<T: Serialize + ?Sized>(value: &T, v: &mut dyn Visit) -> Result<(), Stop> {
    let mut w = Walker { path: Path::root(), v };
    value.serialize(&mut w)
}

/// The walk stopped: a map key that is not a string or a number (never in the model).
#[derive(Debug)]
pub(crate) struct Stop;

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unsupported value in the string walk")
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Stop
    }
}

struct Walker<'v> {
    path: Path,
    v: &'v mut dyn Visit,
}

impl<'k> Walker<'k> {
    fn leaf(&mut self, s: &str) {
        if self.v.enter(&self.path) {
            self.v.string(&self.path, s);
            self.v.leave();
        }
    }

    /// Open a container at the current path; with `variant`, inside a one-key object.
    fn open<'a>(&'a mut self, variant: Option<&'static str>) -> Compound<'a, 'k> {
        let mut opened = 0;
        let mut active = self.v.enter(&self.path);
        if active {
            opened += 1;
            if let Some(name) = variant {
                self.path.push(Seg::Key(name.to_string()));
                active = self.v.enter(&self.path);
                opened += usize::from(active);
            }
        }
        let pushed = usize::from(variant.is_some() && opened > 0);
        Compound { w: self, active, opened, pushed, index: 0, key: None }
    }
}

struct Compound<'a, 'k> {
    w: &'a mut Walker<'k>,
    /// Whether the elements are looked at.
    active: bool,
    /// How many `enter`s to close.
    opened: usize,
    /// How many path segments to pop.
    pushed: usize,
    index: usize,
    key: Option<String>,
}

impl Compound<'_, '_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        if self.active {
            self.w.path.push(Seg::Index(self.index));
            let r = value.serialize(&mut *self.w);
            self.w.path.pop();
            r?;
        }
        self.index += 1;
        Ok(())
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: String, value: &T) -> Result<(), Stop> {
        if self.active {
            self.w.path.push(Seg::Key(key));
            let r = value.serialize(&mut *self.w);
            self.w.path.pop();
            r?;
        }
        Ok(())
    }

    fn close(self) -> Result<(), Stop> {
        for _ in 0..self.opened {
            self.w.v.leave();
        }
        for _ in 0..self.pushed {
            self.w.path.pop();
        }
        Ok(())
    }
}

impl<'a, 'k> ser::Serializer for &'a mut Walker<'k> {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Compound<'a, 'k>;
    type SerializeTuple = Compound<'a, 'k>;
    type SerializeTupleStruct = Compound<'a, 'k>;
    type SerializeTupleVariant = Compound<'a, 'k>;
    type SerializeMap = Compound<'a, 'k>;
    type SerializeStruct = Compound<'a, 'k>;
    type SerializeStructVariant = Compound<'a, 'k>;

    fn serialize_bool(self, _: bool) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_i8(self, _: i8) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_i16(self, _: i16) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_i32(self, _: i32) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_i64(self, _: i64) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_f32(self, _: f32) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_f64(self, _: f64) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_char(self, c: char) -> Result<(), Stop> {
        self.leaf(c.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, s: &str) -> Result<(), Stop> {
        self.leaf(s);
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<(), Stop> {
        self.leaf(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(self, _: &'static str, _: u32, variant: &'static str, value: &T) -> Result<(), Stop> {
        let mut c = self.open(None);
        c.field(variant.to_string(), value)?;
        c.close()
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Stop> {
        Ok(self.open(None))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Stop> {
        Ok(self.open(None))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Stop> {
        Ok(self.open(None))
    }
    fn serialize_tuple_variant(self, _: &'static str, _: u32, variant: &'static str, _: usize) -> Result<Self::SerializeTupleVariant, Stop> {
        Ok(self.open(Some(variant)))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Stop> {
        Ok(self.open(None))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Stop> {
        Ok(self.open(None))
    }
    fn serialize_struct_variant(self, _: &'static str, _: u32, variant: &'static str, _: usize) -> Result<Self::SerializeStructVariant, Stop> {
        Ok(self.open(Some(variant)))
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.element(value)
    }
    fn end(self) -> Result<(), Stop> {
        self.close()
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.element(value)
    }
    fn end(self) -> Result<(), Stop> {
        self.close()
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.element(value)
    }
    fn end(self) -> Result<(), Stop> {
        self.close()
    }
}

impl ser::SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.element(value)
    }
    fn end(self) -> Result<(), Stop> {
        self.close()
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Stop> {
        self.key = Some(key.serialize(KeyName)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        let key = self.key.take().ok_or(Stop)?;
        self.field(key, value)
    }
    fn end(self) -> Result<(), Stop> {
        self.close()
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Stop> {
        self.field(key.to_string(), value)
    }
    fn end(self) -> Result<(), Stop> {
        self.close()
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Stop> {
        self.field(key.to_string(), value)
    }
    fn end(self) -> Result<(), Stop> {
        self.close()
    }
}

/// A map key as `serde_json::to_value` writes it: strings as they are, numbers and booleans as
/// their text; anything else stops the walk (serde_json refuses it too).
struct KeyName;

impl ser::Serializer for KeyName {
    type Ok = String;
    type Error = Stop;
    type SerializeSeq = ser::Impossible<String, Stop>;
    type SerializeTuple = ser::Impossible<String, Stop>;
    type SerializeTupleStruct = ser::Impossible<String, Stop>;
    type SerializeTupleVariant = ser::Impossible<String, Stop>;
    type SerializeMap = ser::Impossible<String, Stop>;
    type SerializeStruct = ser::Impossible<String, Stop>;
    type SerializeStructVariant = ser::Impossible<String, Stop>;

    fn serialize_bool(self, v: bool) -> Result<String, Stop> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String, Stop> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String, Stop> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String, Stop> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String, Stop> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String, Stop> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String, Stop> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String, Stop> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String, Stop> {
        Ok(v.to_string())
    }
    fn serialize_f32(self, _: f32) -> Result<String, Stop> {
        Err(Stop)
    }
    fn serialize_f64(self, _: f64) -> Result<String, Stop> {
        Err(Stop)
    }
    fn serialize_char(self, c: char) -> Result<String, Stop> {
        Ok(c.to_string())
    }
    fn serialize_str(self, s: &str) -> Result<String, Stop> {
        Ok(s.to_string())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String, Stop> {
        Err(Stop)
    }
    fn serialize_none(self) -> Result<String, Stop> {
        Err(Stop)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String, Stop> {
        Err(Stop)
    }
    fn serialize_unit(self) -> Result<String, Stop> {
        Err(Stop)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, Stop> {
        Err(Stop)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<String, Stop> {
        Ok(variant.to_string())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<String, Stop> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(self, _: &'static str, _: u32, _: &'static str, _: &T) -> Result<String, Stop> {
        Err(Stop)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Stop> {
        Err(Stop)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Stop> {
        Err(Stop)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Stop> {
        Err(Stop)
    }
    fn serialize_tuple_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self::SerializeTupleVariant, Stop> {
        Err(Stop)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Stop> {
        Err(Stop)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Stop> {
        Err(Stop)
    }
    fn serialize_struct_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self::SerializeStructVariant, Stop> {
        Err(Stop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec;
    use crate::model::{Autoname, ClusterArgs};
    use serde_json::json;

    /// Every (path, string) of `json`, the way the rules used to walk `serde_json::to_value`.
    fn reference(json: &serde_json::Value, path: Path, out: &mut Vec<(String, String)>) {
        match json {
            serde_json::Value::String(s) => out.push((path.to_string(), s.clone())),
            serde_json::Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| reference(x, path.i(i), out)),
            serde_json::Value::Object(m) => m.iter().for_each(|(k, x)| reference(x, path.k(k.clone()), out)),
            _ => {}
        }
    }

    struct Collect(Vec<(String, String)>, usize);
    impl Visit for Collect {
        fn enter(&mut self, _: &Path) -> bool {
            self.1 += 1;
            true
        }
        fn leave(&mut self) {
            self.1 -= 1;
        }
        fn string(&mut self, path: &Path, s: &str) {
            self.0.push((path.to_string(), s.to_string()));
        }
    }

    fn walked<T: Serialize>(v: &T) -> Vec<(String, String)> {
        let mut c = Collect(Vec::new(), 0);
        visit_strings(v, &mut c).unwrap();
        assert_eq!(c.1, 0, "every enter is left");
        c.0
    }

    fn expected<T: Serialize>(v: &T) -> Vec<(String, String)> {
        let mut out = Vec::new();
        reference(&serde_json::to_value(v).unwrap(), Path::root(), &mut out);
        out
    }

    #[test]
    fn same_strings_and_paths_as_to_value() {
        let mut spec = super::super::fixtures::golden();
        spec["tags"] = json!({"team": "platform", "a.b": "x", "": "empty key"});
        spec["addons"]["vpcCni"]["configuration"] = json!({"env": {"A": "1"}, "list": ["x", 2, {"y": "z"}], "n": null});
        spec["nodeGroups"][0]["capacityType"] = json!("SPOT");
        let d = codec::decode::<ClusterArgs>(&codec::from_json(&spec)).unwrap();
        let spec = d.value.with_defaults(Autoname::Proposed("c"), Some("us-east-1"));
        let got = walked(&spec);
        assert!(got.iter().any(|(p, s)| p == "nodeGroups[0].capacityType" && s == "SPOT"), "{got:?}");
        assert!(got.iter().any(|(p, _)| p == "tags[\"a.b\"]"), "{got:?}");
        assert_eq!(got, expected(&spec));
    }

    #[test]
    fn enum_shapes_match_serde_json() {
        #[derive(serde::Serialize)]
        enum E {
            Unit,
            New(String),
            Tuple(String, u8),
            Struct { s: String },
        }
        let v = vec![E::Unit, E::New("n".into()), E::Tuple("t".into(), 1), E::Struct { s: "s".into() }];
        let keyed: std::collections::BTreeMap<u32, char> = [(7, 'c')].into();
        assert_eq!(walked(&v), expected(&v));
        assert_eq!(walked(&keyed), expected(&keyed));
    }

    #[test]
    fn a_skipped_node_hides_its_subtree() {
        struct SkipTags(Vec<String>);
        impl Visit for SkipTags {
            fn enter(&mut self, path: &Path) -> bool {
                path.top() != Some("tags")
            }
            fn leave(&mut self) {}
            fn string(&mut self, path: &Path, _: &str) {
                self.0.push(path.to_string());
            }
        }
        let v = json!({"tags": {"a": "1"}, "name": "n"});
        let mut s = SkipTags(Vec::new());
        visit_strings(&v, &mut s).unwrap();
        assert_eq!(s.0, vec!["name".to_string()]);
    }

    #[test]
    fn one_walk_for_several_rules_equals_one_walk_each() {
        use super::super::{catalogue, Rule};
        let spec = super::super::fixtures::with(|s| {
            s["tags"] = json!({"open": "0.0.0.0/0", "leak": "[object Object]", "open6": "::/0"});
            s["serviceAccountRoles"] = json!([{"namespace": "a", "name": "b", "inlinePolicy": "Calling __str__ on an Output[T] 0.0.0.0/0"}]);
            s["policy"] = json!({"waivers": [{"rule": "SEKS-NET-004", "reason": "[object Object] was ::/0 long ago"}]});
        });
        let mut tree = codec::from_json(&spec);
        if let crate::value::Value::Object(m) = &mut tree {
            m.insert("kubernetesVersion".into(), crate::value::Value::Unknown(crate::value::UnknownKind::String));
        }
        let d = codec::decode::<ClusterArgs>(&tree).unwrap();
        let spec = d.value.with_defaults_around(Autoname::Proposed("c"), Some("us-east-1"), &d.annotations);
        let ctx = RuleCtx { spec: &spec, annotations: &d.annotations, olds: None, region: Some("us-east-1"), today: "2026-11-23", aws: None };
        let rules: Vec<&dyn Rule> = catalogue().iter().copied().filter(|r| r.strings().is_some()).collect();
        assert_eq!(rules.len(), 2, "OUT-002 and NET-004");
        let scanners: Vec<&dyn StringRule> = rules.iter().filter_map(|r| r.strings()).collect();
        let together = scan(&ctx, &scanners);
        for (rule, got) in rules.iter().zip(&together) {
            let alone = rule.check(&ctx);
            assert!(alone.iter().filter(|o| matches!(o, Outcome::Fail(_))).count() >= 2, "{}: {alone:?}", rule.meta().id);
            assert!(alone.iter().any(|o| matches!(o, Outcome::Deferred(_))), "{}: {alone:?}", rule.meta().id);
            assert_eq!(got, &alone, "{}", rule.meta().id);
        }
    }
}
