//! At preview, one info line of what `pulumi up` will do to AWS (and why it replaces or deletes
//! what it does), from the plan of the checked inputs.

use secure_eks_core::value::{PropertyMap, Value};

use super::state::{recorded, spec_and_plan};
use super::{Configured, Notes};

/// The lines for a create (`old` absent) or an update (`old`: the old inputs and outputs).
/// Nothing without a configured provider; one line when unknown inputs keep the plan open.
pub fn what_up_does(configured: Option<&Configured>, urn: &str, news: &PropertyMap, old: Option<(&PropertyMap, &PropertyMap)>) -> Notes {
    let Some(c) = configured else { return Notes::new() };
    if news.values().any(Value::contains_unknowns) {
        return vec!["`pulumi up` lists the AWS resources it changes once the unknown inputs are known".to_string()];
    }
    let empty = PropertyMap::new();
    let old_outputs = old.map(|(_, o)| o).unwrap_or(&empty);
    let Ok((_, new_plan)) = spec_and_plan(news, c, urn, old_outputs) else { return Notes::new() };
    let old_plan = old.and_then(|(i, o)| spec_and_plan(i, c, urn, o).ok()).map(|(_, p)| p);
    secure_eks_core::plan::what_up_does(&new_plan, old_plan.as_ref(), &recorded(old_outputs))
}
