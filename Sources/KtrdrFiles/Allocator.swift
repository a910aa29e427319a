import CKtrdrSupport

/// Process-wide allocator tuning for column workloads.
///
/// A backtest allocates a few large columns (8 bytes x bars each) and frees them at the end.
/// By default glibc serves every block above 128 KiB with a fresh `mmap`, so each run pays a
/// page fault and a page clear per 4 KiB (measured: more time than the engine loop itself on
/// 1M bars). Keeping large blocks on the heap and not trimming it lets the next run reuse
/// pages that are already mapped. The cost is that freed memory is kept for reuse (bounded by
/// the largest concurrent working set) rather than returned to the OS at once; the daemon
/// returns it once idle (`releaseMemoryWhenIdle`). Call before any other thread allocates:
/// the arena limit only applies to threads that have not allocated yet.
public enum Allocator {
    public static func tuneForColumns() {
        _ = ktrdr_tune_allocator()
    }
}
