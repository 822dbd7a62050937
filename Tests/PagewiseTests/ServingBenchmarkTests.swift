import Foundation
import Testing
import Pagewise

/// `ServingBenchmarkResult.summarize`: several interleaved rounds become one row per level.
@Suite struct ServingBenchmarkTests {
    /// A row as `pagewise bench --json` prints it (the round number in `seconds`, to tell rows apart).
    static func row(_ concurrency: Int, _ tps: Double, round: Int) -> ServingBenchmarkResult {
        let json = """
        {"concurrency":\(concurrency),"output_tps":\(tps),"ttft_p50_ms":0,"ttft_p99_ms":0,"itl_p50_ms":0,"itl_p99_ms":0,
         "kv_waste_frac":0,"kv_utilization_peak":0,"preemptions":0,"prefix_hit_tokens":0,"computed_tokens":0,"seconds":\(round)}
        """
        return try! JSONDecoder().decode(ServingBenchmarkResult.self, from: Data(json.utf8))
    }

    @Test func medianRoundAndPerRoundScaling() throws {
        // Three rounds of (concurrency 1, concurrency 16).
        let rounds = [(100.0, 400.0), (300.0, 600.0), (200.0, 1000.0)].enumerated().map { r, v in
            [Self.row(1, v.0, round: r), Self.row(16, v.1, round: r)]
        }
        let s = ServingBenchmarkResult.summarize(rounds)
        #expect(s.count == 2)
        // Level 1: sorted 100, 200, 300 -> the middle is round 2 (index 2).
        #expect(s[0].outputTPS == 200 && s[0].seconds == 2 && s[0].outputTPSRounds == [100, 300, 200])
        #expect(s[0].scalingVsFirst == 1)
        // Level 16: sorted 400, 600, 1000 -> round 1; per-round ratios 4, 2, 5 -> median 4
        // (the ratio of the medians would be 600 / 200 = 3).
        #expect(s[1].outputTPS == 600 && s[1].seconds == 1 && s[1].concurrency == 16)
        #expect(s[1].scalingVsFirst == 4)
        // Even count: the lower middle round; the scaling median averages the middle two.
        let two = ServingBenchmarkResult.summarize([[Self.row(1, 100, round: 0), Self.row(4, 300, round: 0)],
                                                    [Self.row(1, 200, round: 1), Self.row(4, 500, round: 1)]])
        #expect(two[1].outputTPS == 300 && two[1].scalingVsFirst == 2.75)
        // Ragged or empty input gives nothing rather than a wrong row.
        #expect(ServingBenchmarkResult.summarize([]).isEmpty)
        #expect(ServingBenchmarkResult.summarize([[Self.row(1, 1, round: 0)], []]).isEmpty)
    }
}
