//! Run tasks along a dependency graph: a node starts when all its dependencies finished, at most
//! a limit at a time; after the first failure (or cancellation) nothing new starts and the
//! running ones are awaited.
//!
//! Of the ready nodes, the one with the longest chain of nodes still waiting on it starts first
//! (then plan order), so a free slot goes to the critical path rather than to a leaf such as a
//! subnet or an endpoint. The limit adapts: it grows by one per finished node up to the maximum
//! while AWS does not throttle, and halves (down to [`MIN_CONCURRENCY`]) when a call was
//! throttled since the last look ([`note_throttled`], called by the retry classifier
//! `retry::ThrottleWatch` that every client carries).

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How many steps a graph runs at once at most. The plan of a cluster is about 20 steps wide;
/// each step makes its calls one after another, so this stays well inside the EC2/IAM/EKS
/// request rates (throttling still halves it, see [`note_throttled`]).
pub(crate) const MAX_CONCURRENCY: usize = 32;

/// The fixed fan-out of the flat loops (refresh's describes, retagging).
pub(crate) const CONCURRENCY: usize = 8;

/// Where the adaptive limit starts.
pub(crate) const START_CONCURRENCY: usize = 16;

/// The adaptive limit never goes below this.
pub(crate) const MIN_CONCURRENCY: usize = 2;

/// How many AWS calls were answered with a throttling error in this process.
static THROTTLED: AtomicU64 = AtomicU64::new(0);

/// Record that AWS throttled a call: running graphs halve their limit.
pub(crate) fn note_throttled() {
    THROTTLED.fetch_add(1, Ordering::Relaxed);
}

/// The in-flight limit: additive increase while nothing is throttled, multiplicative decrease
/// when something was.
#[derive(Debug, Clone, PartialEq)]
struct Limit {
    now: usize,
    max: usize,
    /// The throttling count at the last look.
    seen: u64,
}

impl Limit {
    fn new(max: usize, throttled: u64) -> Self {
        let max = max.max(1);
        Limit { now: START_CONCURRENCY.clamp(1, max), max, seen: throttled }
    }

    /// A node finished; `throttled` is the process's throttling count now.
    fn finished(&mut self, throttled: u64) {
        if throttled > self.seen {
            self.seen = throttled;
            self.now = (self.now / 2).max(MIN_CONCURRENCY).min(self.max);
        } else {
            self.now = (self.now + 1).min(self.max);
        }
    }
}

/// For each node, the number of nodes on the longest chain that starts at it and follows the
/// nodes waiting on it (1 for a node nothing waits on). A cycle counts as ending.
fn heights(nodes: &[Node]) -> Vec<usize> {
    let index: BTreeMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        for d in &n.deps {
            if let Some(&j) = index.get(d.as_str()) {
                dependents[j].push(i);
            }
        }
    }
    // 0: not computed; usize::MAX: being computed (a cycle).
    let mut h = vec![0usize; nodes.len()];
    fn height(i: usize, dependents: &[Vec<usize>], h: &mut [usize]) -> usize {
        match h[i] {
            usize::MAX => return 0,
            0 => {}
            v => return v,
        }
        h[i] = usize::MAX;
        let mut best = 0;
        for &j in &dependents[i] {
            best = best.max(height(j, dependents, h));
        }
        h[i] = best + 1;
        h[i]
    }
    for i in 0..nodes.len() {
        height(i, &dependents, &mut h);
    }
    h
}

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

/// Run `start(id)` for every node, respecting the dependencies, at most `limit` at a time (the
/// adaptive limit's maximum). Dependencies that are not nodes count as finished (callers pass
/// only the relevant edges).
pub(crate) async fn run<F, Fut, E>(nodes: &[Node], limit: usize, cancel: &CancellationToken, mut start: F) -> Outcome<E>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Send + 'static,
{
    let known: BTreeSet<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    // Longest remaining chain first, then plan order.
    let h = heights(nodes);
    let mut order: Vec<usize> = (0..nodes.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(h[i]), i));
    let mut limit = Limit::new(limit, THROTTLED.load(Ordering::Relaxed));
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
            for n in order.iter().map(|&i| &nodes[i]) {
                if set.len() >= limit.now {
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
                    limit.finished(THROTTLED.load(Ordering::Relaxed));
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

    #[tokio::test]
    async fn the_longest_remaining_chain_starts_first() {
        // Plan order puts the leaf first; with one slot, the head of the long chain must go first.
        let nodes = vec![n("leaf", &[]), n("head", &[]), n("mid", &["head"]), n("tail", &["mid"])];
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        let out = run(&nodes, 1, &CancellationToken::new(), move |id| {
            let l = l.clone();
            async move {
                l.lock().unwrap().push(id);
                Ok::<(), String>(())
            }
        })
        .await;
        assert!(out.failures.is_empty());
        // Plan order would start the leaf first; equal chains (leaf and tail, 1 each) keep plan order.
        assert_eq!(*log.lock().unwrap(), vec!["head", "mid", "leaf", "tail"]);
    }

    #[test]
    fn heights_count_the_longest_chain_of_waiting_nodes() {
        let nodes = vec![n("a", &[]), n("b", &["a"]), n("c", &["b"]), n("d", &["a"]), n("x", &["x-missing"])];
        assert_eq!(heights(&nodes), vec![3, 2, 1, 1, 1]);
        let cycle = vec![n("p", &["q"]), n("q", &["p"])];
        assert!(heights(&cycle).iter().all(|&h| h >= 1));
    }

    #[test]
    fn the_limit_grows_while_quiet_and_halves_on_throttling() {
        let mut l = Limit::new(MAX_CONCURRENCY, 7);
        assert_eq!(l.now, START_CONCURRENCY);
        for _ in 0..100 {
            l.finished(7);
        }
        assert_eq!(l.now, MAX_CONCURRENCY, "grows to the maximum while nothing is throttled");
        l.finished(8);
        assert_eq!(l.now, MAX_CONCURRENCY / 2);
        l.finished(8);
        assert_eq!(l.now, MAX_CONCURRENCY / 2 + 1, "one throttling event halves once");
        for t in 9..30 {
            l.finished(t);
        }
        assert_eq!(l.now, MIN_CONCURRENCY);
        assert_eq!(Limit::new(4, 0).now, 4, "never above the maximum");
    }

    #[tokio::test]
    async fn a_wide_plan_runs_more_than_eight_at_once() {
        let nodes: Vec<Node> = (0..20).map(|i| n(&format!("s{i}"), &[])).collect();
        let now = Arc::new(Mutex::new((0usize, 0usize)));
        let c = now.clone();
        let out = run(&nodes, MAX_CONCURRENCY, &CancellationToken::new(), move |_| {
            let c = c.clone();
            async move {
                {
                    let mut g = c.lock().unwrap();
                    g.0 += 1;
                    g.1 = g.1.max(g.0);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                c.lock().unwrap().0 -= 1;
                Ok::<(), String>(())
            }
        })
        .await;
        assert!(out.failures.is_empty());
        assert!(now.lock().unwrap().1 >= START_CONCURRENCY, "peak {}", now.lock().unwrap().1);
    }
}
