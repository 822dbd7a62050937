import Foundation
import Testing

/// Runs `scripts/test_prefix_routing.py`: two real replicas, a shared-prefix workload sent
/// round-robin and then routed by prefix hash; the replicas' own prefix-cache counters must show
/// prefix routing's hit rate clearly higher. Release builds only (or `PAGEWISE_OPENAI_SCRIPT=1`).
@Suite struct PrefixRoutingScriptTests {
    @Test(.enabled(if: ScriptRunner.python != nil && OpenAIClientScriptTests.binary != nil, "needs python3 and the built pagewise"),
          .enabled(if: OpenAIClientScriptTests.wanted, "debug build: set PAGEWISE_OPENAI_SCRIPT=1 to run it"))
    func prefixRoutingBeatsRoundRobinOnTheReplicasOwnCounters() throws {
        let (status, output) = try ScriptRunner.run(try #require(ScriptRunner.python), script: "test_prefix_routing.py",
                                                    arguments: ["--pagewise", try #require(OpenAIClientScriptTests.binary).path])
        #expect(status == 0, "\(output)")
        #expect(output.contains("1 passed, 0 failed"), "\(output)")
    }
}
