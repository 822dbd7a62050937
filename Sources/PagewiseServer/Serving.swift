import Foundation
import Hummingbird
import Logging
import Models
import Pagewise
import StructuredOutput
import Tokenization

/// What every route group shares: the model host, the configuration, metrics, admission and logger.
struct Serving: Sendable {
    let host: ModelHost
    let config: ServerConfiguration
    let metrics: ServerMetrics
    let admission: Admission
    let logger: Logger

    /// Unix seconds now.
    var now: Int { Int(Date().timeIntervalSince1970) }

    /// A fresh request id with OpenAI's prefix.
    func makeId(_ prefix: String) -> String {
        prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    /// Reads the JSON body of a request.
    func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        let data = try await BodyDecoding.collect(request.body, limit: config.maxBodyBytes)
        return try BodyDecoding.decode(type, from: data)
    }

    /// Runs `operation`, cancelling it when the client closes the connection (live servers only);
    /// the connection stays open for the client's next request (see `ConnectionWatch`).
    func cancellingOnDisconnect(_ context: ServerRequestContext,
                                _ operation: @escaping @Sendable () async throws -> Response) async throws -> Response {
        guard config.abortOnDisconnect, let watch = await context.connectionWatch() else { return try await operation() }
        return try await watch.cancelling(operation)
    }

    /// The HTTP error for an engine failure: the request's fault (400) or the engine's (500).
    func engineError(_ error: any Error, param: String? = nil) -> OpenAIError {
        switch error {
        case let e as OpenAIError: return e
        case let e as StructuredOutputError: return .badRequest(e.message, param: param ?? "response_format")
        case let e as RequestError:
            switch e {
            case .promptTooLong, .emptyPrompt, .neverFits: return .badRequest(e.description, param: "prompt")
            case .invalidRequest, .kvPoolExhausted: return .badRequest(e.description)
            }
        case let SamplingError.invalidParameter(m): return .badRequest(m, param: SamplingMapping.paramName(in: m))
        case let e as SamplingError: return .badRequest(e.description)
        case let e as ModelError:
            if case .tokenOutOfRange = e { return .badRequest(e.description, param: "prompt") }
            return OpenAIError(status: .internalServerError, message: "the engine failed: \(e)")
        default:
            return OpenAIError(status: .internalServerError, message: "the engine failed: \(error)")
        }
    }

    /// Checks token ids against the vocabulary and the prompt against the context.
    func checkPrompt(_ tokens: [Int32], model: LoadedModel, maxTokens: Int?, param: String) throws(OpenAIError) {
        let vocab = model.tokenizer.vocabSize
        for t in tokens where t < 0 || Int(t) >= vocab {
            throw .badRequest("token id \(t) is outside the vocabulary (0..<\(vocab))", param: param)
        }
        guard !tokens.isEmpty else { throw .badRequest("the prompt is empty", param: param) }
        let limit = model.backend.maxModelLen
        guard tokens.count < limit else {
            throw .badRequest("This model's maximum context length is \(limit) tokens. However, your prompt has \(tokens.count) tokens; shorten it.",
                              param: param)
        }
        if let maxTokens, tokens.count + maxTokens > limit {
            throw .badRequest("This model's maximum context length is \(limit) tokens. However, you requested \(tokens.count + maxTokens) tokens (\(tokens.count) in the prompt, \(maxTokens) in the completion). Reduce the prompt or max_tokens.",
                              param: "max_tokens")
        }
    }

    /// A token's text for logprobs.
    static func tokenString(_ id: Int32, _ tokenizer: Tokenizer) -> String {
        String(decoding: tokenizer.tokenPiece(id), as: UTF8.self)
    }

    /// A log-probability JSON can carry (vLLM clamps −∞ to −9999).
    static func finite(_ x: Float) -> Double {
        x.isNaN ? -9999 : Double(max(x, -9999))
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.withoutEscapingSlashes]
        return e
    }()

    /// A JSON response.
    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder.encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
