//! customTimeouts: the engine sends the operation's limit in seconds (0 = none) with Create,
//! Update, Delete and Read. A run that reaches its limit is cancelled and then awaited, so that
//! what it reports includes every resource it recorded before it stopped.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::errors::ProviderError;

/// The longest limit accepted: 7 days. Anything above is taken for a mistake (an EKS create
/// takes minutes), and so is a negative or non-finite number.
pub const MAX_TIMEOUT_SECS: u64 = 7 * 24 * 3600;

/// The operation a limit applies to (named in messages as `customTimeouts.<op>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Create.
    Create,
    /// Update.
    Update,
    /// Delete.
    Delete,
    /// Read (refresh, import).
    Read,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
            Op::Read => "read",
        }
    }
}

/// A checked time limit, started when it was made.
#[derive(Debug, Clone, Copy)]
pub struct Timeout {
    op: Op,
    limit: Option<Duration>,
    deadline: Option<Instant>,
}

impl Timeout {
    /// No limit.
    pub fn none(op: Op) -> Timeout {
        Timeout { op, limit: None, deadline: None }
    }

    /// The engine's `timeout` field: seconds, 0 for none. A negative, non-finite or huge value is
    /// an error that says so (never a panic, as `Duration::from_secs_f64` would be).
    pub fn from_engine(op: Op, secs: f64) -> Result<Timeout, ProviderError> {
        let limit = limit_from_secs(op, secs)?;
        Ok(Timeout { op, limit, deadline: limit.map(|l| Instant::now() + l) })
    }

    /// The message for a run stopped by this limit.
    pub fn reached(&self) -> String {
        let secs = self.limit.map(|l| l.as_secs_f64()).unwrap_or_default();
        format!("timed out after {secs} s (customTimeouts.{}); the run was stopped at the next step boundary", self.op.name())
    }

    /// Run `fut`, which stops at its next step boundary once `cancel` fires. When the deadline
    /// passes first, `cancel` fires and `fut` is still awaited: its result then reports what was
    /// recorded up to the stop. Returns the result and whether the deadline passed.
    pub async fn run<T>(&self, cancel: &CancellationToken, fut: impl Future<Output = T>) -> (T, bool) {
        let Some(deadline) = self.deadline else { return (fut.await, false) };
        tokio::pin!(fut);
        tokio::select! {
            r = &mut fut => (r, false),
            _ = tokio::time::sleep_until(deadline) => {
                cancel.cancel();
                (fut.await, true)
            }
        }
    }

    /// Run `fut`, which changes nothing (a read), and drop it when the deadline passes.
    pub async fn read<T>(&self, fut: impl Future<Output = T>) -> Result<T, ProviderError> {
        let Some(deadline) = self.deadline else { return Ok(fut.await) };
        tokio::time::timeout_at(deadline, fut).await.map_err(|_| ProviderError::FailedPrecondition(self.reached()))
    }
}

/// Seconds from the engine to a limit: `None` for 0.
fn limit_from_secs(op: Op, secs: f64) -> Result<Option<Duration>, ProviderError> {
    if secs == 0.0 {
        return Ok(None);
    }
    let fix = format!(
        "fix: set customTimeouts.{} to a duration between 1s and {}h, or remove it for no limit",
        op.name(),
        MAX_TIMEOUT_SECS / 3600
    );
    if !secs.is_finite() || secs < 0.0 {
        return Err(ProviderError::InvalidArgument(format!(
            "the {} timeout ({secs} s) is not a positive number of seconds; {fix}",
            op.name()
        )));
    }
    if secs > MAX_TIMEOUT_SECS as f64 {
        return Err(ProviderError::InvalidArgument(format!(
            "the {} timeout ({secs} s) is longer than the longest accepted ({MAX_TIMEOUT_SECS} s, 7 days); {fix}",
            op.name()
        )));
    }
    Duration::try_from_secs_f64(secs)
        .map(Some)
        .map_err(|e| ProviderError::InvalidArgument(format!("the {} timeout ({secs} s): {e}; {fix}", op.name())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_seconds_become_limits_or_clear_errors() {
        assert_eq!(limit_from_secs(Op::Create, 0.0).unwrap(), None);
        assert_eq!(limit_from_secs(Op::Create, 1.5).unwrap(), Some(Duration::from_millis(1500)));
        assert_eq!(limit_from_secs(Op::Delete, 3600.0).unwrap(), Some(Duration::from_secs(3600)));
        assert_eq!(limit_from_secs(Op::Update, MAX_TIMEOUT_SECS as f64).unwrap(), Some(Duration::from_secs(MAX_TIMEOUT_SECS)));
        for (secs, what) in [
            (f64::NAN, "not a positive number"),
            (f64::INFINITY, "not a positive number"),
            (f64::NEG_INFINITY, "not a positive number"),
            (-1.0, "not a positive number"),
            (-0.5, "not a positive number"),
            (MAX_TIMEOUT_SECS as f64 + 1.0, "longer than the longest accepted"),
            (1e300, "longer than the longest accepted"),
            (f64::MAX, "longer than the longest accepted"),
        ] {
            let e = limit_from_secs(Op::Create, secs).unwrap_err();
            assert!(matches!(e, ProviderError::InvalidArgument(_)), "{secs}: {e:?}");
            let m = e.to_string();
            assert!(m.contains(what) && m.contains("customTimeouts.create"), "{secs}: {m}");
        }
    }

    #[test]
    fn the_reached_message_names_the_limit_and_the_option() {
        let t = Timeout::from_engine(Op::Update, 90.0).unwrap();
        assert_eq!(t.reached(), "timed out after 90 s (customTimeouts.update); the run was stopped at the next step boundary");
    }

    #[tokio::test]
    async fn a_run_past_its_deadline_is_cancelled_then_awaited_for_what_it_recorded() {
        let t = Timeout::from_engine(Op::Create, 0.05).unwrap();
        let cancel = CancellationToken::new();
        let c = cancel.clone();
        // A run that records one resource, then waits (as a step waits for ACTIVE) until it is
        // cancelled, and reports what it recorded.
        let run = async move {
            let mut recorded = vec!["vpc"];
            c.cancelled().await;
            recorded.push("stopped");
            recorded
        };
        let (out, timed_out) = t.run(&cancel, run).await;
        assert!(timed_out);
        assert!(cancel.is_cancelled());
        assert_eq!(out, vec!["vpc", "stopped"]);
    }

    #[tokio::test]
    async fn a_run_within_its_deadline_or_without_one_is_not_cancelled() {
        let cancel = CancellationToken::new();
        let (out, timed_out) = Timeout::from_engine(Op::Create, 60.0).unwrap().run(&cancel, async { 7 }).await;
        assert_eq!((out, timed_out), (7, false));
        let (out, timed_out) = Timeout::none(Op::Delete).run(&cancel, async { 8 }).await;
        assert_eq!((out, timed_out), (8, false));
        assert!(!cancel.is_cancelled());
    }

    #[tokio::test]
    async fn a_read_past_its_deadline_is_an_error() {
        let t = Timeout::from_engine(Op::Read, 0.02).unwrap();
        let e = t.read(std::future::pending::<()>()).await.unwrap_err();
        assert!(e.to_string().contains("customTimeouts.read"), "{e}");
        assert_eq!(Timeout::none(Op::Read).read(async { 3 }).await.unwrap(), 3);
    }
}
