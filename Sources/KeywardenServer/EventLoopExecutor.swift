import NIOCore
import NIOPosix

/// Runs Swift tasks on SwiftNIO's event loops: a job enqueued on an event loop's thread (a
/// socket read resuming a request handler, say) runs on that same loop, so a request is not
/// handed between threads at every `await`; a job enqueued from any other thread goes to the
/// next loop. Blocking work (password hashing, SQLite) already runs on its own thread pools.
final class EventLoopExecutor: TaskExecutor {
    let group: MultiThreadedEventLoopGroup

    init(group: MultiThreadedEventLoopGroup) {
        self.group = group
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? group.next()
        loop.execute { job.runSynchronously(on: executor) }
    }
}

/// Runs `body` with every task it starts (and their child tasks) preferring the event loops of
/// `group` to Swift's global executor.
public func withEventLoopExecutor<T: Sendable>(
    _ group: MultiThreadedEventLoopGroup = .singleton, _ body: () async throws -> T
) async throws -> T {
    try await withTaskExecutorPreference(EventLoopExecutor(group: group)) { try await body() }
}
