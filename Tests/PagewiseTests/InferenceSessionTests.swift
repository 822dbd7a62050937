import Foundation
import Pagewise
import Testing
import TestSupport

/// InferenceSession with prompts longer than one forward pass.
@Suite(.serialized)
struct InferenceSessionTests {
    /// A prompt split over several chunks (logits only from the last one) generates what one
    /// chunk does: chunking does not change logits.
    @Test func promptLongerThanOneChunk() throws {
        let path = try TestModels.path("smollm2-135m-instruct")
        let prompt: [Int32] = [1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 2, 198, 1, 4093, 198, 19556, 314, 253]
        var params = SamplingParams.greedy
        params.maxTokens = 6
        var outputs: [[Int32]] = []
        for chunk in [512, 8] {
            let s = try InferenceSession(modelPath: path, threads: 2, contextLength: 64, maxBatchTokens: chunk)
            var tokens: [Int32] = []
            try s.generate(prompt: prompt, params: params) { tokens.append($0); return true }
            outputs.append(tokens)
            var positions: [Int] = []
            try s.evaluate(prompt, logitsFrom: 17) { pos, _ in positions.append(pos) }
            #expect(positions == [17, 18, 19], "chunks of \(chunk)")
        }
        #expect(outputs[0].count == 6 && outputs[0] == outputs[1])
    }
}
