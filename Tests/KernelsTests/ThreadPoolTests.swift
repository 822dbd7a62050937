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
}
