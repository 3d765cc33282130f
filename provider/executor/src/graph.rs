//! Run tasks along a dependency graph: a node starts when all its dependencies finished, at most
//! `limit` at a time; after the first failure (or cancellation) nothing new starts and the
//! running ones are awaited.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How many steps run at once.
pub(crate) const CONCURRENCY: usize = 8;

/// A node: its id and the ids that must finish first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub id: String,
    pub deps: Vec<String>,
}

/// How a run ended.
#[derive(Debug)]
pub(crate) struct Outcome<E> {
    /// The failed nodes and their errors.
    pub failures: Vec<(String, E)>,
    /// Tasks that ended abnormally (a panic) and nodes that never became ready, as text.
    pub aborted: Vec<String>,
    /// The run stopped because of the cancellation token.
    pub cancelled: bool,
}

/// Run `start(id)` for every node, respecting the dependencies. Dependencies that are not nodes
/// count as finished (callers pass only the relevant edges).
pub(crate) async fn run<F, Fut, E>(nodes: &[Node], limit: usize, cancel: &CancellationToken, mut start: F) -> Outcome<E>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Send + 'static,
{
    let known: BTreeSet<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    let mut finished: BTreeSet<String> = BTreeSet::new();
    let mut started: BTreeSet<String> = BTreeSet::new();
    let mut set: JoinSet<(String, Result<(), E>)> = JoinSet::new();
    let mut outcome = Outcome { failures: Vec::new(), aborted: Vec::new(), cancelled: false };
    let mut stop = false;
    loop {
        if !stop && cancel.is_cancelled() {
            stop = true;
            outcome.cancelled = true;
        }
        if !stop {
            for n in nodes {
                if set.len() >= limit.max(1) {
                    break;
                }
                if started.contains(&n.id) {
                    continue;
                }
                if n.deps.iter().all(|d| finished.contains(d) || !known.contains(d.as_str())) {
                    started.insert(n.id.clone());
                    let fut = start(n.id.clone());
                    let id = n.id.clone();
                    set.spawn(async move { (id, fut.await) });
                }
            }
        }
        if set.is_empty() {
            break;
        }
        tokio::select! {
            r = set.join_next() => match r {
                Some(Ok((id, Ok(())))) => {
                    finished.insert(id);
                }
                Some(Ok((id, Err(e)))) => {
                    outcome.failures.push((id, e));
                    stop = true;
                }
                Some(Err(e)) => {
                    outcome.aborted.push(format!("a step task ended abnormally: {e}"));
                    stop = true;
                }
                None => break,
            },
            _ = cancel.cancelled(), if !stop => {
                stop = true;
                outcome.cancelled = true;
            }
        }
    }
    if !stop && finished.len() < nodes.len() {
        for n in nodes.iter().filter(|n| !started.contains(&n.id)) {
            outcome.aborted.push(format!("{}: never became ready (dependency cycle)", n.id));
        }
    }
    outcome
}

/// The deletion graph: node `x` waits for every node that depends on `x`, directly or through
/// steps that are not in `present` (absent steps are skipped but keep the order).
pub(crate) fn reverse(forward: &[Node], present: &BTreeSet<String>) -> Vec<Node> {
    // dependents[x] = nodes with an edge to x
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for n in forward {
        for d in &n.deps {
            dependents.entry(d.as_str()).or_default().push(n.id.as_str());
        }
    }
    let mut out = Vec::new();
    // reverse topological order of the forward list gives a stable, sensible start order
    for n in forward.iter().rev() {
        if !present.contains(&n.id) {
            continue;
        }
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut stack: Vec<&str> = dependents.get(n.id.as_str()).cloned().unwrap_or_default();
        let mut deps = BTreeSet::new();
        while let Some(x) = stack.pop() {
            if !seen.insert(x) {
                continue;
            }
            if present.contains(x) {
                deps.insert(x.to_string());
            } else if let Some(more) = dependents.get(x) {
                stack.extend(more.iter().copied());
            }
        }
        out.push(Node { id: n.id.clone(), deps: deps.into_iter().collect() });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    fn n(id: &str, deps: &[&str]) -> Node {
        Node { id: id.into(), deps: deps.iter().map(|d| d.to_string()).collect() }
    }

    #[tokio::test]
    async fn runs_in_dependency_order_and_in_parallel() {
        let nodes = vec![n("a", &[]), n("b", &["a"]), n("c", &["a"]), n("d", &["b", "c"])];
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        let out = run(&nodes, 8, &CancellationToken::new(), move |id| {
            let l = l.clone();
            async move {
                l.lock().unwrap().push(format!("start {id}"));
                tokio::time::sleep(Duration::from_millis(20)).await;
                l.lock().unwrap().push(format!("end {id}"));
                Ok::<(), String>(())
            }
        })
        .await;
        assert!(out.failures.is_empty() && !out.cancelled);
        let log = log.lock().unwrap().clone();
        let pos = |s: &str| log.iter().position(|x| x == s).unwrap();
        assert!(pos("end a") < pos("start b"));
        assert!(pos("start c") < pos("end b"), "b and c overlap: {log:?}");
        assert!(pos("end b") < pos("start d") && pos("end c") < pos("start d"));
    }

    #[tokio::test]
    async fn first_failure_stops_new_steps_and_waits_for_running_ones() {
        let nodes = vec![n("fail", &[]), n("slow", &[]), n("after", &["fail"]), n("after-slow", &["slow"])];
        let ran = Arc::new(Mutex::new(Vec::new()));
        let r = ran.clone();
        let out = run(&nodes, 8, &CancellationToken::new(), move |id| {
            let r = r.clone();
            async move {
                if id == "fail" {
                    return Err("boom".to_string());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                r.lock().unwrap().push(id);
                Ok(())
            }
        })
        .await;
        assert_eq!(out.failures, vec![("fail".to_string(), "boom".to_string())]);
        assert_eq!(*ran.lock().unwrap(), vec!["slow".to_string()]);
    }

    #[tokio::test]
    async fn cancellation_stops_starting() {
        let nodes = vec![n("a", &[]), n("b", &["a"])];
        let cancel = CancellationToken::new();
        let c = cancel.clone();
        let out = run(&nodes, 8, &cancel, move |_| {
            let c = c.clone();
            async move {
                c.cancel();
                Ok::<(), String>(())
            }
        })
        .await;
        assert!(out.cancelled);
    }

    #[test]
    fn reverse_skips_absent_steps_but_keeps_order() {
        let fwd = vec![n("vpc", &[]), n("subnet", &["vpc"]), n("rtb", &["subnet"]), n("vpce", &["rtb"])];
        let present: BTreeSet<String> = ["vpc", "subnet", "vpce"].iter().map(|s| s.to_string()).collect();
        let rev = reverse(&fwd, &present);
        assert_eq!(rev, vec![n("vpce", &[]), n("subnet", &["vpce"]), n("vpc", &["subnet"])]);
    }
}
