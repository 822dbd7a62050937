import Foundation
import Pagewise
import Testing

/// The pieces of `pagewise chat` that need no model: multi-line input, commands, `/params`.
struct ChatInputTests {
    @Test func backslashContinues() {
        var a = ChatInputAccumulator()
        #expect(a.feed("first line\\") == nil)
        #expect(a.isContinuing)
        #expect(a.feed("second") == "first line\nsecond")
        #expect(!a.isContinuing)
    }

    @Test func tripleQuoteBlocks() {
        var a = ChatInputAccumulator()
        #expect(a.feed("\"\"\"Write") == nil)
        #expect(a.feed("") == nil)
        #expect(a.feed("  code\\") == nil) // a backslash inside a block is text
        #expect(a.feed("end\"\"\"") == "Write\n\n  code\\\nend")
        #expect(a.feed("\"\"\"one line\"\"\"") == "one line")
        #expect(a.feed("plain") == "plain")
    }

    @Test func commands() {
        #expect(ChatCommand("hello /system") == .message("hello /system"))
        #expect(ChatCommand("/system You are terse.") == .system("You are terse."))
        #expect(ChatCommand("/system") == .system(""))
        #expect(ChatCommand("/reset") == .reset)
        #expect(ChatCommand("/save out.json") == .save("out.json"))
        #expect(ChatCommand("/params temperature=0.7 top_p=0.9") == .params("temperature=0.7 top_p=0.9"))
        #expect(ChatCommand("/exit") == .exit)
        #expect(ChatCommand("/bye") == .exit)
        #expect(ChatCommand("/nope x") == .unknown("/nope"))
    }

    @Test func paramsAssignments() throws {
        let p = try SamplingParams().applying(assignments: "temperature=0.7 top_p=0.9 top-k=20 min_p=0 max_tokens=64 seed=7 stop=###,END")
        #expect(p.temperature == 0.7 && p.topP == 0.9 && p.topK == 20 && p.minP == 0 && p.maxTokens == 64 && p.seed == 7)
        #expect(p.stop == ["###", "END"])
        #expect(try p.applying(assignments: "seed=none").seed == nil)
        #expect(throws: SamplingError.self) { try SamplingParams().applying(assignments: "top_p=2") }
        #expect(throws: SamplingError.self) { try SamplingParams().applying(assignments: "warmth=1") }
        #expect(throws: SamplingError.self) { try SamplingParams().applying(assignments: "temperature") }
        #expect(throws: SamplingError.self) { try SamplingParams().applying(assignments: "max_tokens=lots") }
        #expect(p.assignmentsSummary.contains("temperature=0.7"))
    }

    @Test func statsLine() {
        var s = ChatTurnStats(promptTokens: 40, cachedPromptTokens: 32, completionTokens: 11, timeToFirstToken: 0.25, totalSeconds: 1.25)
        s.finishReason = "stop"
        #expect(s.tokensPerSecond == 10)
        #expect(s.summary == "11 tokens, 10.0 tok/s, TTFT 250 ms, prompt 40 tokens (32 cached)")
    }
}
