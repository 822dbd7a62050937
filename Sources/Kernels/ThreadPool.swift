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

extension ThreadPool {
    /// `fn(context, u)` for every unit u in 0..<n, as one task per thread: task k first claims
    /// the units of the k-th contiguous range of 0..<n in order, then takes over the back half of
    /// another range whenever its own is empty (`WorkRanges`). Threads that work on adjacent
    /// units (rows of a matrix) thus read memory in one stream each, and a thread that starts
    /// late still gets its share taken.
    public func runRanged(_ n: Int, context: UnsafeMutableRawPointer,
                          _ fn: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void) {
        runPhasedRanged(0, context: context, fn, then: n, context: context, fn)
    }

    /// `runPhased` whose second phase is `runRanged`'s: units 0..<n in contiguous ranges, one
    /// task per thread, each started only after every first-phase task has finished.
    public func runPhasedRanged(_ firstCount: Int, context firstContext: UnsafeMutableRawPointer,
                                _ first: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void,
                                then n: Int, context: UnsafeMutableRawPointer,
                                _ fn: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void) {
        precondition(n < 1 << 31, "runRanged: at most 2^31 - 1 units")
        let tasks = max(1, min(threadCount, n))
        withUnsafeTemporaryAllocation(byteCount: ck_ranges_bytes(Int32(tasks)), alignment: 64) { mem in
            ck_ranges_init(mem.baseAddress!, Int32(tasks), max(n, 0))
            var job = RangedJob(ranges: mem.baseAddress!, count: Int32(tasks), context: context, unit: fn)
            withUnsafeMutablePointer(to: &job) { jp in
                if firstCount > 0 {
                    runPhased(firstCount, context: firstContext, first, then: n > 0 ? tasks : 0,
                              context: UnsafeMutableRawPointer(jp), rangedTask)
                } else if n > 0 {
                    run(tasks, context: UnsafeMutableRawPointer(jp), rangedTask)
                }
            }
        }
    }
}

/// Units of a dispatch claimed in contiguous ranges.
private struct RangedJob {
    let ranges: UnsafeMutableRawPointer
    let count: Int32
    let context: UnsafeMutableRawPointer
    let unit: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void
}

private let rangedTask: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void = { ctx, k in
    let r = ctx.unsafelyUnwrapped.assumingMemoryBound(to: RangedJob.self)
    while true {
        let u = ck_ranges_claim(r.pointee.ranges, r.pointee.count, Int32(k))
        if u < 0 { return }
        r.pointee.unit(r.pointee.context, u)
    }
}

/// The claiming rule of `ThreadPool.runRanged`, on its own: `units` units split into `tasks`
/// contiguous ranges (range k = units*k/tasks ..< units*(k+1)/tasks); `claim(task:)` returns the
/// next unit of the task's own range; when that is empty, the task takes the back half of the next
/// non-empty range (k+1, k+2, … in turn) as its own range and returns its first unit; nil when
/// every range is empty. Several threads may claim at once, each for its own task index (a task
/// index is claimed for by one thread at a time); each unit is returned exactly once.
public final class WorkRanges: @unchecked Sendable {
    private let mem: UnsafeMutableRawPointer
    public let tasks: Int

    public init(units: Int, tasks: Int) {
        precondition(units < 1 << 31, "WorkRanges: at most 2^31 - 1 units")
        self.tasks = max(1, tasks)
        mem = .allocate(byteCount: ck_ranges_bytes(Int32(self.tasks)), alignment: 64)
        ck_ranges_init(mem, Int32(self.tasks), max(units, 0))
    }

    deinit { mem.deallocate() }

    public func claim(task: Int) -> Int? {
        let u = ck_ranges_claim(mem, Int32(tasks), Int32(task))
        return u < 0 ? nil : u
    }
}
