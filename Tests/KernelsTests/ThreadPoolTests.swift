#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import Kernels

@Suite struct ThreadPoolTests {
    @Test func runsEveryIndexOnce() {
        let pool = ThreadPool(threadCount: 3)
        #expect(pool.threadCount == 3)
        for n in [0, 1, 2, 5, 64, 1000] {
            let counts = UnsafeMutablePointer<Int>.allocate(capacity: max(n, 1))
            counts.initialize(repeating: 0, count: max(n, 1))
            let total = Atomic<Int>(0)
            for _ in 0..<50 {
                pool.run(n) { i in
                    counts[i] += 1
                    total.add(1, ordering: .relaxed)
                }
            }
            for i in 0..<n { #expect(counts[i] == 50) }
            #expect(total.load(ordering: .relaxed) == 50 * n)
            counts.deallocate()
        }
    }

    @Test func nestedRunExecutesInline() {
        let pool = ThreadPool(threadCount: 2)
        let total = Atomic<Int>(0)
        pool.run(4) { _ in
            pool.run(3) { _ in total.add(1, ordering: .relaxed) }
        }
        #expect(total.load(ordering: .relaxed) == 12)
    }

    /// `runPhased`: every second-phase task sees every first-phase write, and each index of
    /// both phases runs exactly once — over many dispatches and thread counts.
    @Test(arguments: [1, 2, 3, 4])
    func phasedSecondPhaseSeesFirst(threads: Int) {
        struct Buffers { let first: UnsafeMutablePointer<Int>; let seen: UnsafeMutablePointer<Int> }
        var buf = Buffers(first: .allocate(capacity: 37), seen: .allocate(capacity: 53))
        buf.first.initialize(repeating: 0, count: 37)
        buf.seen.initialize(repeating: -1, count: 53)
        defer { buf.first.deallocate(); buf.seen.deallocate() }
        let pool = ThreadPool(threadCount: threads)
        let firstFn: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void = { ctx, i in
            // Slow first-phase tasks (a short sleep before the write), so that a second-phase
            // task starting early would see a missing write.
            usleep(UInt32(20 + 10 * (i % 3)))
            ctx!.assumingMemoryBound(to: Buffers.self).pointee.first[i] += i + 1
        }
        let secondFn: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void = { ctx, i in
            let b = ctx!.assumingMemoryBound(to: Buffers.self).pointee
            var total = 0
            for k in 0..<37 { total += b.first[k] }
            b.seen[i] = total
        }
        for round in 1...50 {
            withUnsafeMutablePointer(to: &buf) { ctx in
                pool.runPhased(37, context: UnsafeMutableRawPointer(ctx), firstFn, then: 53,
                               context: UnsafeMutableRawPointer(ctx), secondFn)
            }
            let want = round * (37 * 38 / 2)
            let seen = Array(UnsafeBufferPointer(start: buf.seen, count: 53))
            #expect(seen.allSatisfy { $0 == want }, "round \(round)")
            if seen.contains(where: { $0 != want }) { break }
        }
    }

    /// The claiming rule, step by step: 10 units in 3 ranges [0,3) [3,6) [6,10). A task takes its
    /// own range front to back; once it is empty, the back half of the next non-empty range.
    @Test func rangesClaimOwnRangeThenSteal() {
        let r = WorkRanges(units: 10, tasks: 3)
        var got: [Int?] = []
        for _ in 0..<3 { got.append(r.claim(task: 1)) }
        #expect(got == [3, 4, 5])
        #expect(r.claim(task: 1) == 8)      // range 1 is done: range 2 keeps [6,8), task 1 takes [8,10)
        #expect(r.claim(task: 2) == 6)
        #expect(r.claim(task: 0) == 0)
        #expect(r.claim(task: 2) == 7)
        #expect(r.claim(task: 2) == 2)      // range 2 is done; range 0 ([1,3)) keeps [1,2)
        #expect(r.claim(task: 0) == 1)
        #expect(r.claim(task: 0) == 9)      // the rest of what task 1 took
        #expect(r.claim(task: 0) == nil)
        #expect(r.claim(task: 1) == nil)
        #expect(r.claim(task: 2) == nil)
        #expect(WorkRanges(units: 0, tasks: 2).claim(task: 0) == nil)
        // More tasks than units: ranges [0,0) [0,1) [1,1) [1,2); task 0's own is empty.
        let one = WorkRanges(units: 2, tasks: 4)
        #expect([one.claim(task: 0), one.claim(task: 0), one.claim(task: 0)] == [0, 1, nil])
    }

    /// `runRanged` and `runPhasedRanged`: every unit runs exactly once, after every first-phase
    /// task, over many dispatches, sizes and thread counts.
    @Test(arguments: [1, 2, 3, 4])
    func rangedRunsEveryUnitOnce(threads: Int) {
        struct Buffers { let counts: UnsafeMutablePointer<Int>; let first: UnsafeMutablePointer<Int>; let late: UnsafeMutablePointer<Int> }
        let pool = ThreadPool(threadCount: threads)
        for n in [0, 1, 2, 5, 64, 1000] {
            var buf = Buffers(counts: .allocate(capacity: max(n, 1)), first: .allocate(capacity: 7), late: .allocate(capacity: 1))
            buf.counts.initialize(repeating: 0, count: max(n, 1))
            buf.first.initialize(repeating: 1, count: 7)
            buf.late.initialize(to: 0)
            defer { buf.counts.deallocate(); buf.first.deallocate(); buf.late.deallocate() }
            let unit: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void = { ctx, u in
                let b = ctx!.assumingMemoryBound(to: Buffers.self).pointee
                b.counts[u] += 1
                for k in 0..<7 where b.first[k] == 0 { b.late[0] += 1 }
            }
            let first: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void = { ctx, i in
                usleep(UInt32(10 * (i % 3)))
                ctx!.assumingMemoryBound(to: Buffers.self).pointee.first[i] = 1
            }
            for _ in 0..<20 {
                withUnsafeMutablePointer(to: &buf) { pool.runRanged(n, context: UnsafeMutableRawPointer($0), unit) }
            }
            for _ in 0..<20 {
                for k in 0..<7 { buf.first[k] = 0 }
                withUnsafeMutablePointer(to: &buf) { ctx in
                    pool.runPhasedRanged(7, context: UnsafeMutableRawPointer(ctx), first, then: n,
                                         context: UnsafeMutableRawPointer(ctx), unit)
                }
                for k in 0..<7 { #expect(buf.first[k] == 1) }
            }
            // No second-phase unit ran before every first-phase task had set its flag.
            #expect(buf.late.pointee == 0, "n \(n)")
            for u in 0..<n { #expect(buf.counts[u] == 40, "n \(n) unit \(u)") }
        }
    }
}
