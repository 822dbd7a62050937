import ChatTemplates
import Foundation
import Testing

/// The public surface the server codes against.
@Suite struct APITests {
    @Test func jsonKeepsKeyOrderAndTypes() throws {
        let value = try JinjaValue(json: Data(#"{"z": 1, "a": [true, null, 2.5, "é\n"], "m": {"y": {}, "b": -3}, "big": 1e300}"#.utf8))
        guard case .object(let object) = value else {
            Issue.record("not an object")
            return
        }
        #expect(object.keys == ["z", "a", "m", "big"])
        #expect(object["z"] == .int(1))
        #expect(object["a"] == [true, nil, .double(2.5), "é\n"])
        #expect(object["m"] == ["y": [:], "b": -3])
        #expect(object["big"] == .double(1e300))
        let rendered = try ChatTemplate(source: "{{ m | tojson }}|{% for k in m %}{{ k }}{% endfor %}").render(["m": object["m"] ?? .none])
        #expect(rendered == #"{"y": {}, "b": -3}|yb"#)
        #expect(throws: ChatTemplateError.self) { try JinjaValue(json: Data("{\"a\": }".utf8)) }
        #expect(throws: ChatTemplateError.self) { try JinjaValue(json: Data(String(repeating: "[", count: 100_000).utf8)) }
        #expect(try JinjaValue(json: Data(#""\ud83d\ude00""#.utf8)) == "😀")
    }

    @Test func jsonObjectFromFoundation() throws {
        let any = try JSONSerialization.jsonObject(with: Data(#"{"b": [1, 2.5, true, false, null, "s"], "a": {"k": "v"}}"#.utf8))
        let value = JinjaValue(jsonObject: any)
        #expect(value == ["a": ["k": "v"], "b": [1, .double(2.5), true, false, nil, "s"]])
        #expect(JinjaValue(jsonObject: ["x": 1, "y": [true]] as [String: Any]) == ["x": 1, "y": [true]])
    }

    @Test func objectIsOrderedAndMutable() {
        var object = JinjaObject([("b", 1), ("a", 2)])
        object["c"] = "x"
        object["b"] = 3
        #expect(object.keys == ["b", "a", "c"])
        object["a"] = nil
        #expect(object.keys == ["b", "c"])
        #expect(object == JinjaObject([("c", "x"), ("b", 3)]))
    }

    @Test func renderWithContext() throws {
        let template = try ChatTemplate(source: """
        {%- for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}
        {%- if add_generation_prompt %}<assistant>{% endif %}{{ extra }}
        """)
        let out = try template.render([
            "messages": [["role": "user", "content": "hi"]], "add_generation_prompt": true, "extra": 1.0,
        ])
        #expect(out == "<user>hi<assistant>1.0")
    }

    @Test func raiseExceptionMessageIsVerbatim() throws {
        let template = try ChatTemplate(source: "line1\n{% if messages | length == 0 %}{{ raise_exception('No messages: ' ~ 42) }}{% endif %}")
        do {
            _ = try template.render(["messages": []])
            Issue.record("did not throw")
        } catch let error as ChatTemplateError {
            #expect(error.message == "No messages: 42")
            #expect(error.line == 2)
        }
    }

    @Test func strftimeNowReadsTheClock() throws {
        let template = try ChatTemplate(source: "{{ strftime_now('%Y') }}")
        let year = Calendar(identifier: .gregorian).component(.year, from: Date())
        let rendered = try template.render([:])
        #expect(rendered == String(year) || rendered == String(year - 1) || rendered == String(year + 1))
        #expect(try template.render([:], now: Fixtures.now) == "2024")
    }

    @Test func syntaxErrorsCarryTheirLine() {
        for (source, line) in [("a\nb\n{{ 1 + }}", 3), ("{% if x %}\n\n{% endfor %}", 3), ("x\n{% for %}", 2), ("\n{{ 'open }}", 2)] {
            do {
                _ = try ChatTemplate(source: source)
                Issue.record("parsed: \(source)")
            } catch let error as ChatTemplateError {
                #expect(error.line == line, "\(source.debugDescription): \(error)")
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    @Test func unsupportedConstructsAreNamedWithTheirLine() {
        for (source, name, line) in [
            ("a\n{% include 'x.jinja' %}", "include", 2),
            ("{% extends 'base' %}", "extends", 1),
            ("\n\n{% for x in y recursive %}{% endfor %}", "recursive", 3),
            ("{% autoescape true %}{% endautoescape %}", "autoescape", 1),
            ("\n{{ x | pprint }}", "pprint", 2),
        ] {
            do {
                _ = try ChatTemplate(source: source).render(["x": 1, "y": []])
                Issue.record("accepted: \(source)")
            } catch let error as ChatTemplateError {
                #expect(error.message.contains(name), "\(error)")
                #expect(error.line == line, "\(source.debugDescription): \(error)")
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    @Test func literalsBuildValues() {
        let value: JinjaValue = ["s": "x", "i": 1, "d": 1.5, "b": false, "n": nil, "l": [1, "a"]]
        guard case .object(let o) = value else {
            Issue.record("not an object")
            return
        }
        #expect(o.keys == ["s", "i", "d", "b", "n", "l"])
        #expect(o["d"] == .double(1.5))
        #expect(o["n"] == JinjaValue.none)
        #expect(ChatTemplateError(message: "m", line: 3).description == "m (template line 3)")
    }
}
