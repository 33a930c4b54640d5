//! A counting global allocator: live and peak bytes of this program's heap, where burn's CPU
//! backend keeps its tensors (it has no memory pool to ask, unlike the GPU backends). The wasm
//! module installs it (its heap is the page's CPU-path memory), and so do the CLI and the
//! hostile-files test (`peak_bytes` bounds what a file makes the crate allocate); elsewhere
//! nothing counts and `live_bytes` is `None`.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);

/// Wraps an allocator and counts what passes through it.
pub struct Counting<A>(pub A);

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Relaxed) + bytes;
    PEAK.fetch_max(live, Relaxed);
}

// SAFETY: every call goes to the wrapped allocator unchanged; the counters are only counters.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        COUNTING.store(true, Relaxed);
        let p = unsafe { self.0.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        COUNTING.store(true, Relaxed);
        let p = unsafe { self.0.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { self.0.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = unsafe { self.0.realloc(p, layout, new_size) };
        if !q.is_null() {
            LIVE.fetch_sub(layout.size(), Relaxed);
            grew(new_size);
        }
        q
    }
}

/// Bytes allocated and not yet freed, if a counting allocator is installed.
pub fn live_bytes() -> Option<u64> {
    COUNTING.load(Relaxed).then(|| LIVE.load(Relaxed) as u64)
}

/// The most ever live at once since the last `reset_peak`, if counting.
pub fn peak_bytes() -> Option<u64> {
    COUNTING.load(Relaxed).then(|| PEAK.load(Relaxed) as u64)
}

/// Start a new peak from what is live now.
pub fn reset_peak() {
    PEAK.store(LIVE.load(Relaxed), Relaxed);
}
