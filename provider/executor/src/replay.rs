//! Creates whose client token can't bring back a resource deleted by hand.
//!
//! A create call carries a client token ([`Ctx::token`]): derived from the step and its
//! dependencies, so a retried or re-run create (after a lost response, a crash, a timeout) is
//! answered with the first call's resource instead of making a second one. But the API answers a
//! repeated token with the first call's response whether or not that resource still exists
//! (EC2: "Ensuring idempotency in Amazon EC2 API requests",
//! https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html). When someone deleted
//! the resource by hand, the next create for the step gets back the deleted one, and `up` could
//! never recreate it.
//!
//! [`create`] checks each answer: when the resource it names no longer exists, it creates again
//! with a token derived from the previous token and the dead id ([`Ctx::next_token`]). That
//! token is as stable as the first: every run walks the same chain of dead ids, so a lost
//! response on the new create is still deduplicated, and nothing is ever made twice.

use std::future::Future;

use secure_eks_core::plan::Step;

use crate::ctx::{poll_interval, Ctx, StepError};

/// What a describe by id saw of the resource a create answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// It exists (in any state short of deleting).
    Live,
    /// It is described as deleting, deleted or otherwise dead.
    Dead,
    /// The describe does not find it.
    Missing,
}

/// At most this many dead answers in a row (each one a resource deleted by hand since its create).
const MAX_DEAD_ANSWERS: usize = 8;

/// A fresh resource can be missing from a describe for a moment (eventual consistency): it
/// counts as gone only when this many looks, [`poll_interval`] apart, do not find it.
const MISSING_LOOKS: usize = 4;

/// Run `create` with `first` as the client token; when the answer (its id, by `id_of`) names a
/// resource that `seen` finds dead or missing, create again with the next token in the chain.
/// `what` names the resource in progress lines and errors.
pub(crate) async fn create<O, C, CF, I, A, AF>(ctx: &Ctx, step: &Step, what: &str, first: String, create: C, id_of: I, seen: A) -> Result<O, StepError>
where
    C: Fn(String) -> CF,
    CF: Future<Output = Result<O, StepError>>,
    I: Fn(&O) -> Option<String>,
    A: Fn(String) -> AF,
    AF: Future<Output = Result<Seen, StepError>>,
{
    let mut token = first;
    for _ in 0..MAX_DEAD_ANSWERS {
        let o = create(token.clone()).await?;
        let Some(id) = id_of(&o) else { return Ok(o) };
        if !gone(ctx, &id, &seen).await? {
            return Ok(o);
        }
        ctx.say(format!(
            "{}: the create of {what} was answered with {id}, which no longer exists (deleted since; the client token replays its create); creating a new one",
            step.id
        ));
        token = ctx.next_token(step, &token, &id);
    }
    Err(StepError::Invalid(format!("{}: {MAX_DEAD_ANSWERS} creates of {what} in a row were answered with resources that no longer exist", step.id)))
}

/// Whether the resource `id` is gone: described as dead, or missing from every look. A cancel
/// (Cancel, customTimeouts) stops the looks at once.
async fn gone<A, AF>(ctx: &Ctx, id: &str, seen: &A) -> Result<bool, StepError>
where
    A: Fn(String) -> AF,
    AF: Future<Output = Result<Seen, StepError>>,
{
    for look in 1..=MISSING_LOOKS {
        match ctx.unless_cancelled(seen(id.to_string())).await? {
            Seen::Live => return Ok(false),
            Seen::Dead => return Ok(true),
            Seen::Missing if look < MISSING_LOOKS => ctx.sleep(poll_interval()).await?,
            Seen::Missing => {}
        }
    }
    Ok(true)
}
