/// `name=value` assignments of sampling parameters, as `/params` in `pagewise chat` takes them.
extension SamplingParams {
    /// The names `applying(assignments:)` knows (vLLM's, snake_cased; dashes are read as underscores).
    public static let assignableNames = [
        "temperature", "top_p", "top_k", "min_p", "max_tokens", "min_tokens", "seed", "repetition_penalty",
        "presence_penalty", "frequency_penalty", "stop", "ignore_eos",
    ]

    /// A copy with the space-separated `name=value` assignments applied and validated
    /// (`seed=none` clears the seed; `stop=a,b` sets the stop strings, `stop=` clears them).
    public func applying(assignments text: String) throws(SamplingError) -> SamplingParams {
        var p = self
        for item in text.split(whereSeparator: \.isWhitespace) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw .invalidParameter("'\(item)' is not name=value (e.g. temperature=0.7)")
            }
            let name = parts[0].replacingOccurrences(of: "-", with: "_")
            let value = String(parts[1])
            func float() throws(SamplingError) -> Float {
                guard let v = Float(value) else { throw .invalidParameter("\(name) takes a number, got '\(value)'") }
                return v
            }
            func int() throws(SamplingError) -> Int {
                guard let v = Int(value) else { throw .invalidParameter("\(name) takes an integer, got '\(value)'") }
                return v
            }
            switch name {
            case "temperature": p.temperature = try float()
            case "top_p": p.topP = try float()
            case "top_k": p.topK = try int()
            case "min_p": p.minP = try float()
            case "max_tokens": p.maxTokens = try int()
            case "min_tokens": p.minTokens = try int()
            case "repetition_penalty": p.repetitionPenalty = try float()
            case "presence_penalty": p.presencePenalty = try float()
            case "frequency_penalty": p.frequencyPenalty = try float()
            case "seed":
                if value == "none" || value.isEmpty { p.seed = nil } else {
                    guard let s = UInt64(value) else { throw .invalidParameter("seed takes a non-negative integer or none, got '\(value)'") }
                    p.seed = s
                }
            case "stop": p.stop = value.split(separator: ",").map(String.init)
            case "ignore_eos":
                guard let b = Bool(value) else { throw .invalidParameter("ignore_eos takes true or false, got '\(value)'") }
                p.ignoreEOS = b
            default:
                throw .invalidParameter("unknown parameter '\(name)'; known: \(Self.assignableNames.joined(separator: ", "))")
            }
        }
        do { try p.validate() } catch let e as SamplingError { throw e } catch { throw .invalidParameter("\(error)") }
        return p
    }

    /// The assignable parameters as one line of `name=value`.
    public var assignmentsSummary: String {
        var parts = [
            "temperature=\(temperature)", "top_p=\(topP)", "top_k=\(topK)", "min_p=\(minP)", "max_tokens=\(maxTokens)",
            "min_tokens=\(minTokens)", "seed=\(seed.map(String.init) ?? "none")", "repetition_penalty=\(repetitionPenalty)",
            "presence_penalty=\(presencePenalty)", "frequency_penalty=\(frequencyPenalty)", "ignore_eos=\(ignoreEOS)",
        ]
        if !stop.isEmpty { parts.append("stop=\(stop.joined(separator: ","))") }
        return parts.joined(separator: " ")
    }
}
