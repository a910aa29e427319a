import CKtrdrSupport
import Foundation

/// The allocator keeps freed column pages for the next run (`Allocator.tuneForColumns`): a
/// burst of backtests leaves the daemon holding its peak. Once nothing has run for
/// `idleReleaseSeconds`, the free pages go back to the system; runs in a burst keep the
/// per-run gain, an idle daemon shrinks.
extension OperationManager {
    /// Seconds of idleness before free heap pages are returned.
    static let idleReleaseSeconds = 5.0

    /// Called when the last operation ends; releases memory unless work arrives meanwhile.
    func releaseMemoryWhenIdle() {
        idleSince &+= 1
        let generation = idleSince
        Task { [weak self] in
            try? await Task.sleep(nanoseconds: UInt64(Self.idleReleaseSeconds * 1e9))
            await self?.releaseIfStillIdle(generation)
        }
    }

    private func releaseIfStillIdle(_ generation: UInt64) {
        let (running, pending) = counts()
        guard generation == idleSince, running == 0, pending == 0, live.isEmpty else { return }
        let before = Self.residentBytes()
        DispatchQueue.global(qos: .utility).async { [logger] in
            var inUse: UInt64 = 0, free: UInt64 = 0
            ktrdr_heap_usage(&inUse, &free)
            _ = ktrdr_release_free_memory()
            let after = Self.residentBytes()
            logger.info("idle: free memory returned to the system", metadata: [
                "rss_before_mb": "\(before >> 20)", "rss_after_mb": "\(after >> 20)",
                "heap_in_use_mb": "\(inUse >> 20)", "heap_free_mb": "\(free >> 20)"])
        }
    }

    /// This process's resident set (from /proc/self/statm), in bytes; 0 where unavailable.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .ascii) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
