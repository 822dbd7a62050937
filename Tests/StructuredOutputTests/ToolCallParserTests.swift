import StructuredOutput
import Testing

/// Literal outputs in the formats the model families document.
@Suite struct ToolCallParserTests {
    @Test func hermesSingleAndMultiple() {
        // Qwen 2.5 / Hermes 2 Pro function-calling format.
        let one = """
            <tool_call>
            {"name": "get_current_temperature", "arguments": {"location": "San Francisco, CA, USA", "unit": "celsius"}}
            </tool_call>
            """
        let r = ToolCallParser.parse(one, format: .hermes)
        #expect(r.content == "")
        #expect(r.calls == [ToolCall(name: "get_current_temperature",
                                     arguments: #"{"location":"San Francisco, CA, USA","unit":"celsius"}"#)])
        let two = """
            Let me check both.
            <tool_call>
            {"name": "get_current_temperature", "arguments": {"location": "Paris"}}
            </tool_call>
            <tool_call>
            {"name": "get_temperature_date", "arguments": {"location": "Paris", "date": "2024-10-01"}}
            </tool_call>
            """
        let r2 = ToolCallParser.parse(two)
        #expect(r2.content == "Let me check both.")
        #expect(r2.calls.map(\.name) == ["get_current_temperature", "get_temperature_date"])
        #expect(r2.calls[1].arguments == #"{"location":"Paris","date":"2024-10-01"}"#)
        // Unterminated last call (generation ended at the end-of-turn token).
        let open = #"<tool_call>{"name": "f", "arguments": {}}"#
        #expect(ToolCallParser.parse(open).calls == [ToolCall(name: "f", arguments: "{}")])
        // Malformed JSON: the text comes back as content.
        let bad = #"<tool_call>{"name": "f", "arguments": {</tool_call>"#
        #expect(ToolCallParser.parse(bad) == ParsedToolCalls(content: bad, calls: []))
    }

    @Test func llama3JSON() {
        // Llama 3.1 JSON-based tool calling (model card prompt format).
        let plain = #"{"name": "get_current_conditions", "parameters": {"location": "San Francisco, CA", "unit": "Fahrenheit"}}"#
        let r = ToolCallParser.parse(plain, format: .llama3)
        #expect(r.calls == [ToolCall(name: "get_current_conditions",
                                     arguments: #"{"location":"San Francisco, CA","unit":"Fahrenheit"}"#)])
        // Built-in tool style with <|python_tag|>.
        let tagged = #"<|python_tag|>{"name": "brave_search", "parameters": {"query": "weather"}}"#
        #expect(ToolCallParser.parse(tagged).calls == [ToolCall(name: "brave_search", arguments: #"{"query":"weather"}"#)])
        // Several calls separated by ';' (Llama 3.2).
        let multi = #"{"name": "a", "parameters": {"x": 1}}; {"name": "b", "parameters": {}}"#
        #expect(ToolCallParser.parse(multi, format: .llama3).calls.map(\.name) == ["a", "b"])
        #expect(ToolCallParser.parse("The answer is 42.", format: .llama3).calls.isEmpty)
    }

    @Test func mistral() {
        // Mistral 7B Instruct v0.3 format.
        let v3 = #"[TOOL_CALLS] [{"name": "get_current_weather", "arguments": {"location": "Paris, France", "format": "celsius"}}]"#
        #expect(ToolCallParser.parse(v3).calls == [ToolCall(name: "get_current_weather",
                                                            arguments: #"{"location":"Paris, France","format":"celsius"}"#)])
        // Newer tokenizers (v11+): name[ARGS]{…}, one section per call.
        let v11 = #"[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}[TOOL_CALLS]get_time[ARGS]{"tz": "CET"}"#
        let r = ToolCallParser.parse(v11, format: .mistral)
        #expect(r.calls == [ToolCall(name: "get_weather", arguments: #"{"city":"Paris"}"#),
                            ToolCall(name: "get_time", arguments: #"{"tz":"CET"}"#)])
        #expect(ToolCallParser.parse("[TOOL_CALLS] not json").calls.isEmpty)
    }

    @Test func genericJSONFallback() {
        let fenced = """
            ```json
            {"tool_calls": [{"type": "function", "function": {"name": "lookup", "arguments": "{\\"id\\": 7}"}}]}
            ```
            """
        #expect(ToolCallParser.parse(fenced, format: .json).calls == [ToolCall(name: "lookup", arguments: #"{"id":7}"#)])
        let array = #"[{"name": "a", "arguments": {"k": [1, 2]}}, {"name": "b", "arguments": {}}]"#
        #expect(ToolCallParser.parse(array).calls.count == 2)
        let text = "Hello, how can I help?"
        #expect(ToolCallParser.parse(text) == ParsedToolCalls(content: text, calls: []))
        #expect(ToolCallParser.parse(#"{"answer": 42}"#).calls.isEmpty)
    }
}
