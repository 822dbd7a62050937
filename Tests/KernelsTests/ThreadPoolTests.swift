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
}
