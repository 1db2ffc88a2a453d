//! Fault injection for the crash-safety tests, in debug builds only: with
//! `CARGO_REPRO_FAULT_AT=N`, the process aborts at the Nth file-changing step, as a SIGKILL
//! would (no destructor runs, so nothing is rolled back in-process). Release builds have no hook.

/// A file-changing step is about to happen.
#[cfg(debug_assertions)]
pub fn point() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let Some(at) = std::env::var("CARGO_REPRO_FAULT_AT")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    else {
        return;
    };
    if COUNT.fetch_add(1, Ordering::SeqCst) + 1 == at {
        std::process::abort();
    }
}

/// A file-changing step is about to happen (no hook in release builds).
#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn point() {}
