import Foundation
import Hummingbird
import HummingbirdTesting
@testable import PagewiseServer
import Testing

/// Hostile request bodies: never a crash, never a 5xx, always OpenAI's error JSON (or a success).
@Suite struct FuzzTests {
    /// SplitMix64: a seeded generator, so a failure replays.
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func bool() -> Bool { next() & 1 == 0 }
    }

    static let fields = ["model", "prompt", "messages", "max_tokens", "temperature", "top_p", "top_k", "min_p", "n", "stream",
                         "stop", "logprobs", "top_logprobs", "echo", "seed", "logit_bias", "stream_options", "best_of",
                         "presence_penalty", "frequency_penalty", "repetition_penalty", "use_beam_search", "tools",
                         "allowed_token_ids", "bad_words", "min_tokens", "prompt_logprobs", "tokens", "add_special_tokens"]

    static func value(_ r: inout Rng, depth: Int = 0) -> String {
        switch r.int(depth > 3 ? 8 : 11) {
        case 0: return "null"
        case 1: return r.bool() ? "true" : "false"
        case 2: return String(Int64(bitPattern: r.next()))
        case 3: return ["1e308", "-1e309", "1e-400", "0.5", "-0", "12345678901234567890123", "3.4028236e38", "NaN"][r.int(8)]
        case 4: return "\"\(["", "hi", "\\u0000", "\\ud800", "é🙂", String(repeating: "x", count: 300), "<|im_end|>"][r.int(7)])\""
        case 5: return String(r.int(40))
        case 6: return "[\(r.int(5)),\(r.int(50000))]"
        case 7: return "\"\(r.int(100))\""
        case 8: return "[" + (0 ..< r.int(4)).map { _ in value(&r, depth: depth + 1) }.joined(separator: ",") + "]"
        case 9: return #"[{"role":"user","content":"#  + value(&r, depth: depth + 1) + "}]"
        default:
            return "{" + (0 ..< r.int(4)).map { _ in "\"\(fields[r.int(fields.count)])\":\(value(&r, depth: depth + 1))" }
                .joined(separator: ",") + "}"
        }
    }

    static func body(_ r: inout Rng) -> [UInt8] {
        var fields: [String] = []
        if r.int(4) > 0 { fields.append(r.bool() ? #""prompt":"hello""# : #""messages":[{"role":"user","content":"hi"}]"#) }
        if r.bool() { fields.append(#""max_tokens":\#(r.int(4))"#) }
        for _ in 0 ..< r.int(5) { fields.append("\"\(Self.fields[r.int(Self.fields.count)])\":\(value(&r))") }
        var bytes = Array(("{" + fields.joined(separator: ",") + "}").utf8)
        switch r.int(10) {
        case 0: bytes = Array(bytes.prefix(r.int(bytes.count + 1)))  // truncated
        case 1: bytes.insert(contentsOf: [0xFF, 0xC0, 0x80], at: r.int(bytes.count + 1))  // invalid UTF-8
        case 2: let d = 1 + r.int(3000); bytes = Array((String(repeating: "[", count: d) + String(repeating: "]", count: d)).utf8)  // deep
        case 3: let d = 1 + r.int(200); bytes = Array(("{\"prompt\":" + String(repeating: "{\"a\":", count: d) + "1" + String(repeating: "}", count: d) + "}").utf8)
        case 4: bytes = (0 ..< r.int(64)).map { _ in UInt8(truncatingIfNeeded: r.next()) }  // noise
        default: break
        }
        return bytes
    }

    @Test func randomBodiesNeverCrashOrFail5xx() async throws {
        let backend = try ScriptedBackend(behaviour: .reply(" ok"))
        var rng = Rng(state: 20_251_206)
        let uris = ["/v1/completions", "/v1/chat/completions", "/tokenize", "/detokenize"]
        let cases = (0 ..< 600).map { _ in (uris[rng.int(uris.count)], Self.body(&rng)) }
        try await Harness.app(backend).test(.router) { client in
            for (i, (uri, bytes)) in cases.enumerated() {
                let r = try await Harness.postBytes(client, uri, bytes)
                let shown = String(decoding: bytes.prefix(200), as: UTF8.self)
                #expect(r.status.code < 500, "case \(i) \(uri) \(shown) → \(r.status) \(String(buffer: r.body))")
                if r.status != .ok {
                    let o = try? Harness.object(r)
                    let e = o?["error"] as? [String: Any]
                    #expect(e?["message"] is String && e?["code"] as? Int == Int(r.status.code),
                            "case \(i) \(uri) \(shown) → \(String(buffer: r.body))")
                }
            }
        }
    }
}
