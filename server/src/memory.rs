//! The process's allocator, and giving freed memory back to the system after a large request
//! or answer. A leaf: it depends on no other module of the server.

/// mimalloc: a third less CPU per tool call than the system allocator (tokio's aligned task
/// allocations and the many small strings of a result are its strong suit). Built without
/// transparent huge pages, which would add megabytes of resident memory for nothing.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Gives freed memory back to the system now. mimalloc keeps freed pages for reuse and purges
/// them a second later, and only when it next allocates: after a 10 MB request an idle server
/// would hold the megabytes until its next request. The stdio writer calls this after a large
/// line or a large batch of answers (see `stdio::LARGE_BYTES`), a few times a session at most.
pub(crate) fn give_back() {
    unsafe extern "C" {
        // mimalloc's public API (`mimalloc.h`), linked in by the `mimalloc` crate.
        fn mi_collect(force: bool);
    }
    // SAFETY: `mi_collect` takes no pointers and may be called from any thread at any time;
    // `force` also purges the freed pages of every arena at once.
    unsafe { mi_collect(true) }
}
