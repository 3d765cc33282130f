//! Shared reading of the identity policies in the spec (`serviceAccountRoles[].inlinePolicy`
//! and `policyArns`) for the IAM rules that judge statements one by one. A document that is not
//! valid JSON or has no Statement is SEKS-IAM-011's finding; here it is skipped.

use super::*;
use serde_json::{Map, Value as Json};

/// The strings of an `Action`/`Resource`-like element (a string or a list of strings).
pub(crate) fn strs(v: Option<&Json>) -> Vec<&str> {
    match v {
        Some(Json::String(s)) => vec![s.as_str()],
        Some(Json::Array(a)) => a.iter().filter_map(|x| x.as_str()).collect(),
        _ => Vec::new(),
    }
}

/// IAM's wildcard match: `*` any run, `?` one character, ASCII case-insensitive.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi].eq_ignore_ascii_case(&t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// One statement of an inline policy, with the path of its document.
pub(crate) struct Statement<'a> {
    /// The `inlinePolicy` path.
    pub path: &'a Path,
    /// The statement's index in `Statement`.
    pub index: usize,
    /// The statement.
    pub obj: &'a Map<String, Json>,
}

impl Statement<'_> {
    /// `Effect` is `Allow`.
    pub fn allows(&self) -> bool {
        self.obj.get("Effect").and_then(|e| e.as_str()) == Some("Allow")
    }
    /// The `Action` strings.
    pub fn actions(&self) -> Vec<&str> {
        strs(self.obj.get("Action"))
    }
    /// The `Resource` strings.
    pub fn resources(&self) -> Vec<&str> {
        strs(self.obj.get("Resource"))
    }
    /// `Resource` holds `*`.
    pub fn on_every_resource(&self) -> bool {
        self.resources().contains(&"*")
    }
    /// A finding at the document's path.
    pub fn finding(&self, problem: String, expected: &str, fix: &str) -> Finding {
        Finding { path: self.path.clone(), problem, expected: expected.into(), fix: fix.into() }
    }
}

/// How many parsed documents [`parsed`] keeps (per thread).
const CACHED: usize = 64;

thread_local! {
    static PARSED: std::cell::RefCell<Vec<(String, std::rc::Rc<Json>)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `doc` parsed as JSON, `None` when it is not JSON. The IAM rules all read the same inline
/// policies during one evaluation: the last few documents are kept by their text (compared in
/// full, so a hit is always the same document), and each is parsed once instead of once per rule.
pub(crate) fn parsed(doc: &str) -> Option<std::rc::Rc<Json>> {
    if let Some(hit) = PARSED.with(|c| c.borrow().iter().find(|(d, _)| d == doc).map(|(_, j)| j.clone())) {
        return Some(hit);
    }
    let j = std::rc::Rc::new(serde_json::from_str::<Json>(doc).ok()?);
    PARSED.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHED {
            c.remove(0);
        }
        c.push((doc.to_string(), j.clone()));
    });
    Some(j)
}

/// Run `judge` on every statement of every known inline policy; unknown documents are deferred.
pub(crate) fn each_statement(ctx: &RuleCtx<'_>, mut judge: impl FnMut(&Statement<'_>) -> Vec<Finding>) -> Vec<Outcome> {
    let base = Path::key("serviceAccountRoles");
    if ctx.annotations.is_unknown(&base) {
        return vec![Outcome::Deferred(base)];
    }
    let mut out = Vec::new();
    for (i, r) in ctx.spec.service_account_roles.iter().flatten().enumerate() {
        let path = base.i(i).k("inlinePolicy");
        if !ctx.known(&path) {
            out.push(Outcome::Deferred(path));
            continue;
        }
        let Some(doc) = r.inline_policy.as_deref() else { continue };
        let Some(parsed) = parsed(doc) else { continue };
        let statements: Vec<&Json> = match parsed.get("Statement") {
            Some(Json::Array(a)) => a.iter().collect(),
            Some(o @ Json::Object(_)) => vec![o],
            _ => continue,
        };
        for (index, st) in statements.into_iter().enumerate() {
            if let Some(obj) = st.as_object() {
                out.extend(judge(&Statement { path: &path, index, obj }).into_iter().map(Outcome::Fail));
            }
        }
    }
    out
}

/// Run `judge` on every known managed policy ARN; unknown lists or entries are deferred.
pub(crate) fn each_policy_arn(ctx: &RuleCtx<'_>, mut judge: impl FnMut(&Path, &str) -> Option<Finding>) -> Vec<Outcome> {
    let base = Path::key("serviceAccountRoles");
    if ctx.annotations.is_unknown(&base) {
        return vec![Outcome::Deferred(base)];
    }
    let mut out = Vec::new();
    for (i, r) in ctx.spec.service_account_roles.iter().flatten().enumerate() {
        let lp = base.i(i).k("policyArns");
        if ctx.annotations.is_unknown(&lp) {
            out.push(Outcome::Deferred(lp));
            continue;
        }
        for (j, arn) in r.policy_arns.iter().flatten().enumerate() {
            let p = lp.i(j);
            out.extend(when_known(ctx, &p, || judge(&p, arn)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("Get*", "GetObject"));
        assert!(glob_match("*", ""));
        assert!(glob_match("g?t*", "GetObject"));
        assert!(glob_match("*Role*", "PassRole"));
        assert!(!glob_match("Put*", "GetObject"));
        assert!(!glob_match("GetObject", "GetObjectAcl"));
        assert!(glob_match("*Object", "GetObject"));
    }
}
