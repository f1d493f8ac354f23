//! The C library's heap, where SQLite (C code) allocates: its page caches and each query's
//! working memory. Rust's allocations go to mimalloc (`main.rs`); these do not.
//!
//! glibc gives each thread that allocates an arena of its own, up to eight per core, and keeps a
//! freed chunk in its arena for reuse by that arena only. Under 30 minutes of ingest and search
//! the server's glibc arenas (ten of them) held about 330 MB while SQLite itself held about
//! 160 MB (`anpr_sqlite_memory_bytes`), and the difference grew. Two arenas, and a trim every
//! few seconds that hands the arenas' free pages back to the system, keep the heap near what
//! SQLite holds. Elsewhere than glibc both are nothing.

/// Caps the C heap's arenas; call before any other thread starts.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: sets one allocator parameter, before other threads allocate.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Returns the C heap's free pages to the system every `every`, on a thread of its own, for the
/// life of the process (a server's).
pub fn spawn_trimmer(every: std::time::Duration) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let started = std::thread::Builder::new()
            .name("c-heap-trim".into())
            .spawn(move || loop {
                std::thread::sleep(every);
                // SAFETY: malloc_trim is thread-safe; 0 keeps no extra padding at the top.
                unsafe {
                    libc::malloc_trim(0);
                }
            });
        if let Err(e) = started {
            tracing::warn!(error = %e, "could not start the C heap's trimmer; memory may grow");
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = every;
}
