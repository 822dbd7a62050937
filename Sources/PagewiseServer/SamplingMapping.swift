import Pagewise

/// Maps the OpenAI / vLLM request fields onto the engine's `SamplingParams`, with OpenAI's
/// defaults (temperature 1, top_p 1, no top_k or min_p) where the request leaves a field out.
enum SamplingMapping {
    /// The most sequences one request may ask for (the engine's limit).
    static let maxN = 128

    static func params(_ f: SamplingFields, maxTokens: Int, logprobs: Int?, vocabSize: Int) throws(OpenAIError) -> SamplingParams {
        var p = SamplingParams()
        p.temperature = 1
        p.topK = 0
        p.topP = 1
        p.minP = 0
        if let t = f.temperature { p.temperature = Float(t) }
        if let v = f.topP { p.topP = Float(v) }
        if let v = f.topK { p.topK = v }
        if let v = f.minP { p.minP = Float(v) }
        if let s = f.seed { p.seed = UInt64(bitPattern: s) }
        p.maxTokens = maxTokens
        if let v = f.minTokens { p.minTokens = v }
        if let v = f.ignoreEOS { p.ignoreEOS = v }
        if let v = f.repetitionPenalty { p.repetitionPenalty = Float(v) }
        if let v = f.presencePenalty { p.presencePenalty = Float(v) }
        if let v = f.frequencyPenalty { p.frequencyPenalty = Float(v) }
        if let bias = f.logitBias {
            for (key, value) in bias {
                guard let id = Int32(key) else {
                    throw .badRequest("logit_bias keys must be token ids, got '\(key)'", param: "logit_bias")
                }
                p.logitBias[id] = Float(max(-100, min(100, value)))
            }
        }
        p.allowedTokenIds = f.allowedTokenIds
        if let v = f.badWords { p.badWords = v }
        if let v = f.stop { p.stop = v.values }
        if let v = f.stopTokenIds { p.stopTokenIds = v }
        if let v = f.includeStopStrInOutput { p.includeStopStrInOutput = v }
        if let v = f.skipSpecialTokens { p.skipSpecialTokens = v }
        p.logprobs = logprobs
        p.promptLogprobs = f.promptLogprobs
        let n = f.n ?? 1
        guard (1 ... maxN).contains(n) else { throw .badRequest("n must be in [1, \(maxN)], got \(n)", param: "n") }
        if let b = f.bestOf, b < n { throw .badRequest("best_of must be ≥ n, got best_of \(b) and n \(n)", param: "best_of") }
        if f.useBeamSearch == true {
            var beam = BeamSearchOptions(width: n)
            if let lp = f.lengthPenalty { beam.lengthPenalty = Float(lp) }
            switch f.earlyStopping {
            case nil, .null?, .bool(false)?: beam.earlyStopping = .heuristic
            case .bool(true)?: beam.earlyStopping = .always
            case .string("never")?: beam.earlyStopping = .never
            default: throw .badRequest("early_stopping must be true, false or \"never\"", param: "early_stopping")
            }
            p.beamSearch = beam
        }
        if let k = f.priority, abs(k) > 1_000_000_000 { throw .badRequest("priority is out of range", param: "priority") }
        do {
            try p.validate(vocabSize: vocabSize)
        } catch let SamplingError.invalidParameter(message) {
            throw .badRequest(message, param: paramName(in: message))
        } catch {
            throw .badRequest("\(error)")
        }
        return p
    }

    /// The snake_case parameter a `SamplingParams` validation message starts with.
    static func paramName(in message: String) -> String? {
        let head = message.prefix { $0.isLetter || $0 == "_" }
        guard !head.isEmpty, head.allSatisfy({ $0.isLowercase || $0 == "_" }) else {
            return message.hasPrefix("beam width") ? "n" : nil
        }
        return String(head)
    }
}
