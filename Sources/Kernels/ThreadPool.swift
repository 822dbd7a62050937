import CKernels

/// Fixed pool of worker threads (created once). `run(n)` calls `body(i)` for i in 0..<n across
/// the workers and the calling thread and returns when all are done. Workers spin briefly
/// after each call, then sleep on a futex, so back-to-back parallel sections start fast.
/// A nested or concurrent `run` executes inline on its caller.
public final class ThreadPool: @unchecked Sendable {
    private let pool: OpaquePointer
    /// Threads that execute work, the caller included.
    public let threadCount: Int

    public init(threadCount: Int) {
        let n = max(1, threadCount)
        guard let p = ck_pool_create(Int32(n)) else { fatalError("ThreadPool: out of memory") }
        pool = p
        self.threadCount = n
    }

    deinit { ck_pool_destroy(pool) }

    /// `run` for hot paths: `fn(context, i)` for i in 0..<n, with nothing allocated per call
    /// (the closure form makes one small heap object per call for `withoutActuallyEscaping`).
    public func run(_ n: Int, context: UnsafeMutableRawPointer,
                    _ fn: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void) {
        if n <= 0 { return }
        if n == 1 || threadCount == 1 {
            for i in 0..<n { fn(context, i) }
            return
        }
        ck_pool_run(pool, n, fn, context)
    }

    /// One dispatch in two phases: `first(firstContext, i)` for i in 0..<firstCount, then —
    /// each only after all of those have finished — `fn(context, i)` for i in 0..<n. Saves a
    /// second fork/join when the second phase needs the first's results.
    public func runPhased(_ firstCount: Int, context firstContext: UnsafeMutableRawPointer,
                          _ first: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void,
                          then n: Int, context: UnsafeMutableRawPointer,
                          _ fn: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void) {
        if threadCount == 1 || firstCount + n <= 1 {
            for i in 0..<max(firstCount, 0) { first(firstContext, i) }
            for i in 0..<max(n, 0) { fn(context, i) }
            return
        }
        ck_pool_run_phased(pool, firstCount, first, firstContext, n, fn, context)
    }

    public func run(_ n: Int, _ body: (Int) -> Void) {
        if n <= 0 { return }
        if n == 1 || threadCount == 1 {
            for i in 0..<n { body(i) }
            return
        }
        // The body travels to the C trampoline as a pointer to a concrete struct: its field keeps
        // the closure's native representation, so no reabstraction thunk (heap context) is made.
        withoutActuallyEscaping(body) { escapable in
            var task = PoolTask(call: escapable)
            withUnsafeMutablePointer(to: &task) { ptr in
                ck_pool_run(pool, n, { ctx, i in
                    ctx.unsafelyUnwrapped.assumingMemoryBound(to: PoolTask.self).pointee.call(Int(i))
                }, UnsafeMutableRawPointer(ptr))
            }
        }
    }
}

/// The body of one `ThreadPool.run` call, handed to the C workers by address.
private struct PoolTask {
    let call: (Int) -> Void
}
