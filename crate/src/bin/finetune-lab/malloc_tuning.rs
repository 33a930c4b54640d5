//! Keep freed tensor memory in the process for the next step.
//!
//! burn's CPU backend allocates a fresh buffer for almost every operation. With glibc's defaults a
//! buffer of a megabyte or more comes from `mmap` and goes back to the kernel when freed, so every
//! step page-faults its tensors in again: 5–10% of an adapter step in `perf`. Raising
//! the mmap threshold to its maximum (32 MiB on 64-bit) and not trimming the heap below 1 GiB
//! lets freed buffers be reused: `bench/native.sh`, adapter 161–173 → 100–104 ms/step, full
//! 140 → 120–129. (The browser's allocator never returns memory, so the wasm build needs none.)

#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn keep_freed_memory() {
    const MMAP_THRESHOLD_MAX: i32 = 32 << 20;
    const TRIM_THRESHOLD: i32 = 1 << 30;
    // SAFETY: mallopt only changes glibc's tuning; it is called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn keep_freed_memory() {}
