//! Two independent computations at once, when the input is large enough to pay for the
//! second thread: below that, starting a thread (and the fresh memory its allocations touch)
//! costs more than it saves.

/// Below this many grants a second thread costs more than it saves.
pub const SIDE_BY_SIDE_GRANTS: usize = 500;

/// Both results, `second` worked out on another thread when `parallel`.
pub fn side_by_side<A, B: Send>(
    parallel: bool,
    first: impl FnOnce() -> A,
    second: impl FnOnce() -> B + Send,
) -> (A, B) {
    if !parallel {
        return (first(), second());
    }
    std::thread::scope(|threads| {
        let second = threads.spawn(second);
        let first = first();
        let second = second
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (first, second)
    })
}
