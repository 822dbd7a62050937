#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
import Kernels

/// Kernel timings on the shapes of SmolLM2-135M (Q4_1 layers, Q8_0 output) and Gemma 3 270M's
/// Q8_0 output. Off by default; run with PAGEWISE_KERNEL_BENCH=1 (and --filter KernelBench).
@Suite struct KernelBench {
    @Test(.enabled(if: getenv("PAGEWISE_KERNEL_BENCH") != nil))
    func smolLMShapes() {
        let threads = getenv("PAGEWISE_KERNEL_BENCH_THREADS").flatMap { Int(String(cString: $0)) } ?? 2
        let tokenCounts = (getenv("PAGEWISE_KERNEL_BENCH_TOKENS").map { String(cString: $0) } ?? "1,4,16,64,512")
            .split(separator: ",").compactMap { Int($0) }
        let shapes: [(QuantType, Int, Int)] = [(.q4_1, 576, 576), (.q4_1, 1536, 576), (.q4_1, 576, 1536), (.q8_0, 49152, 576)]
        for n in tokenCounts {
            for (type, rows, cols) in shapes {
                let r = benchmarkMatVec(type: type, rows: rows, cols: cols, nTokens: n, threads: threads, minDuration: 0.3)
                print("BENCH \(r)")
            }
        }
    }
}
