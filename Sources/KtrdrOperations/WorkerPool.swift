import CKtrdrSupport
import Foundation
import KtrdrCore
import Synchronization

/// Runs `body(k)` for `k` in `0..<count` on `workers` threads at the operations' niceness, each
/// taking the next index; a thread stops when `body` returns false or the token is cancelled.
/// Returns when every thread has stopped. (Threads, not the cooperative pool: trials block.)
enum WorkerPool {
    static func run(count: Int, workers: Int, name: String, token: CancellationToken, _ body: @escaping @Sendable (Int) -> Bool) {
        guard count > 0 else { return }
        let next = Counter()
        let finished = DispatchGroup()
        for w in 0..<max(1, min(workers, count)) {
            finished.enter()
            let thread = Thread {
                _ = ktrdr_nice_current_thread(LocalExecutor.nice)
                while !token.isCancelled {
                    let k = next.value.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard k < count, body(k) else { break }
                }
                finished.leave()
            }
            thread.name = "\(name) worker \(w)"
            thread.stackSize = 8 << 20
            thread.start()
        }
        finished.wait()
    }

    private final class Counter: Sendable { let value = Atomic<Int>(0) }
}
