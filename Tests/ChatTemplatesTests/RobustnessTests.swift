import ChatTemplates
import Foundation
import Testing

/// Hostile or broken template text must throw, never crash or hang.
@Suite struct RobustnessTests {
    /// SplitMix64: a small seeded generator, so every run feeds the same inputs.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let fragments = [
        "{%", "%}", "{{", "}}", "{#", "#}", "{%-", "-%}", "(", ")", "[", "]", "{", "}", "|", ".", ",", ":", "'", "\"",
        " if ", " else ", " endif ", " for ", " in ", " endfor ", " set ", " = ", " macro ", " endmacro ", " not ",
        " is ", " and ", " or ", "~", "+", "-", "*", "**", "//", "%", "loop.", "messages", "message['content']",
        "| tojson", "| trim", "| length", "namespace(", "raise_exception(", "\n", " ", "0", "1.5", "none", "\\",
        "{% break %}", "{% continue %}", "{% endset %}", "{% call %}", "{% raw %}", "{% endraw %}", "range(99999)",
    ]

    static func mutate(_ text: String, _ rng: inout SeededGenerator) -> String {
        var scalars = Array(text.unicodeScalars)
        let edits = Int.random(in: 1...6, using: &rng)
        for _ in 0..<edits {
            let position = scalars.isEmpty ? 0 : Int.random(in: 0..<scalars.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0 where !scalars.isEmpty:
                let length = min(Int.random(in: 1...40, using: &rng), scalars.count - position)
                scalars.removeSubrange(position..<position + length)
            case 1:
                let fragment = fragments[Int.random(in: 0..<fragments.count, using: &rng)]
                scalars.insert(contentsOf: fragment.unicodeScalars, at: position)
            case 2 where scalars.count > 2:
                let other = Int.random(in: 0..<scalars.count, using: &rng)
                scalars.swapAt(position, other)
            default:
                let scalar = Unicode.Scalar(UInt8.random(in: 0x20...0x7E, using: &rng))
                scalars.insert(scalar, at: position)
            }
        }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    static let context: [String: JinjaValue] = [
        "messages": [
            ["role": "system", "content": "sys"],
            ["role": "user", "content": "hi"],
            ["role": "assistant", "content": "", "tool_calls": [["type": "function", "function": ["name": "f", "arguments": ["a": 1]]]]],
            ["role": "tool", "content": "out"],
        ],
        "tools": [["type": "function", "function": ["name": "f", "description": "d", "parameters": ["type": "object"]]]],
        "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>",
    ]

    /// 25 seeded mutations of each real template; `CT_MUTATIONS=300 CT_SEED=7` runs a longer,
    /// different campaign (21,000 inputs passed before this was committed).
    @Test func mutatedRealTemplatesNeverCrash() throws {
        var rng = SeededGenerator(state: UInt64(ProcessInfo.processInfo.environment["CT_SEED"] ?? "") ?? 0x5EED)
        var rendered = 0
        var refused = 0
        for name in Fixtures.templateNames {
            let source = try Fixtures.templateSource(name)
            for _ in 0..<(Int(ProcessInfo.processInfo.environment["CT_MUTATIONS"] ?? "") ?? 25) {
                let text = Self.mutate(source, &rng)
                do {
                    _ = try ChatTemplate(source: text).render(Self.context, now: Fixtures.now)
                    rendered += 1
                } catch is ChatTemplateError {
                    refused += 1
                }
            }
        }
        #expect(rendered + refused == Fixtures.templateNames.count * (Int(ProcessInfo.processInfo.environment["CT_MUTATIONS"] ?? "") ?? 25))
    }

    @Test func randomTextNeverCrashes() {
        var rng = SeededGenerator(state: 42)
        for _ in 0..<3000 {
            var text = ""
            for _ in 0..<Int.random(in: 1...30, using: &rng) {
                text += Self.fragments[Int.random(in: 0..<Self.fragments.count, using: &rng)]
            }
            _ = try? ChatTemplate(source: text).render(Self.context, now: Fixtures.now)
        }
    }

    /// Nesting past the limits throws instead of overflowing the stack — checked on a thread
    /// with a 512 KiB stack, the smallest a caller is likely to give us.
    @Test func deepNestingThrows() throws {
        let cases = [
            "{{ " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + " }}",
            "{{ " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + " }}",
            "{{ " + String(repeating: "not ", count: 5000) + "1 }}",
            "{{ " + String(repeating: "-", count: 5000) + "1 }}",
            String(repeating: "{% if true %}", count: 5000) + String(repeating: "{% endif %}", count: 5000),
            String(repeating: "{% for x in [1] %}", count: 3000) + String(repeating: "{% endfor %}", count: 3000),
            "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
            "{% macro f(n) %}{% for i in [1] %}{% if true %}{{ f(n + 1) | trim }}{% endif %}{% endfor %}{% endmacro %}{{ f(0) }}",
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "{{ 'x' * 1000000000 }}",
            "{{ '{:>999999999}'.format(1) }}",
            "{{ [1, 2] * 100000000 }}",
        ]
        for text in cases {
            let outcome = try onSmallStack {
                do {
                    _ = try ChatTemplate(source: text).render([:], now: Fixtures.now)
                    return "rendered"
                } catch let error as ChatTemplateError {
                    return error.kind
                }
            }
            #expect(outcome != "rendered", "\(text.prefix(60))")
        }
        // Nesting inside the limits still works.
        let nested = String(repeating: "(", count: 20) + "1" + String(repeating: ")", count: 20)
        #expect(try ChatTemplate(source: "{{ \(nested) }}").render([:]) == "1")
        let recursion = "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{{ n }}{% endmacro %}{{ f(30) }}"
        #expect(try ChatTemplate(source: recursion).render([:]) == (0...30).map(String.init).joined())
    }

    /// Runs `body` on a thread with a 512 KiB stack and returns its result.
    func onSmallStack(_ body: @escaping @Sendable () throws -> String) throws -> String {
        final class Box: @unchecked Sendable {
            var result: Result<String, Error> = .success("")
        }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.result = Result { try body() }
            done.signal()
        }
        thread.stackSize = 512 << 10
        thread.start()
        done.wait()
        return try box.result.get()
    }
}
