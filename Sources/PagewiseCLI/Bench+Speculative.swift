import ArgumentParser
import Foundation
import Pagewise

extension Bench {
    /// Prompts of the speculative-decoding workloads: one whose output repeats its input, code, and
    /// free chat (where drafts rarely match).
    static let specPrompts: [String: String] = [
        "edit": """
        <|im_start|>user
        Fix the spelling in this text and repeat it in full:

        The old lighthouse stood at the edge of the cliff, its white paint peeling after decades of storms. Every evening the keeper climbed the one hundred and twelve steps to light the lamp, and every morning he climbed them again to put it out. Ships passing in the night saw its beam sweep across the water and knew they were close to home. The keeper kept a log of every ship he saw, writing down its name, the time, and the weather. After forty years the log filled eleven books, which now sit in the town museum beside his brass telescope.<|im_end|>
        <|im_start|>assistant
        The old lighthouse stood at the edge of the cliff,
        """,
        "code": """
        def merge_sort(items):
            if len(items) <= 1:
                return items
            middle = len(items) // 2
            left = merge_sort(items[:middle])
            right = merge_sort(items[middle:])
            return merge(left, right)


        def merge(left, right):
            result = []
            i = 0
            j = 0
            while i < len(left) and j < len(right):
                if left[i] <= right[j]:
                    result.append(left[i])
                    i += 1
                else:
                    result.append(right[j])
                    j += 1
            result.extend(left[i:])
            result.extend(right[j:])
            return result


        def quick_sort(items):
        """,
        "chat": """
        <|im_start|>user
        Write a short story about a robot who learns to paint.<|im_end|>
        <|im_start|>assistant

        """,
    ]

    func runSpeculative() throws {
        var config = try engine.config(modelPath: options.resolvedPath(), threads: options.threads)
        if config.maxModelLen == nil { config.maxModelLen = 2048 }
        let e = try LLMEngine(config: config)
        var results: [SpeculativeBenchmarkResult] = []
        for name in specWorkloads.split(separator: ",").map({ String($0).trimmingCharacters(in: .whitespaces) }) {
            guard let text = Self.specPrompts[name] else { throw ValidationError("--spec-workloads: unknown workload '\(name)' (edit, code, chat)") }
            let prompt = e.tokenizer.encode(text, addSpecial: true, parseSpecial: true)
            let r = try e.benchmarkSpeculation(workload: name, prompt: prompt, maxTokens: genTokens, rounds: repetitions)
            results.append(r)
            if !json {
                print(String(format: "%@ (%@, k ≤ %d): off %7.1f tok/s  on %7.1f tok/s  ×%.2f  acceptance %.2f  %.2f tokens/draft  identical %@",
                             name, config.speculative?.description ?? "", config.numSpeculativeTokens, r.offTPS, r.onTPS, r.speedup,
                             r.acceptanceRate, r.acceptedPerDraft, r.identical ? "yes" : "NO"))
            }
        }
        if json {
            struct Out: Encodable { let results: [SpeculativeBenchmarkResult] }
            print(jsonLine(Out(results: results)))
        }
    }
}
