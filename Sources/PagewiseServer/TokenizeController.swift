import Foundation
import Hummingbird

/// vLLM's `POST /tokenize` and `POST /detokenize`.
struct TokenizeController: Sendable {
    let serving: Serving

    func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.post("tokenize") { request, _ in try await tokenize(request) }
        router.post("detokenize") { request, _ in try await detokenize(request) }
    }

    func tokenize(_ request: Request) async throws -> Response {
        let data = try await BodyDecoding.collect(request.body, limit: serving.config.maxBodyBytes)
        let body = try BodyDecoding.decode(TokenizeRequest.self, from: data)
        let model = try serving.host.ready(named: body.model)
        let tokenizer = model.tokenizer
        let tokens: [Int32]
        switch (body.prompt, body.messages) {
        case let (prompt?, nil):
            tokens = tokenizer.encode(prompt, addSpecial: body.addSpecialTokens ?? true, parseSpecial: true)
        case let (nil, messages?):
            let text = try ChatPrompt.render(messages: messages, tools: body.tools, body: data,
                                             addGenerationPrompt: body.addGenerationPrompt ?? true,
                                             continueFinalMessage: body.continueFinalMessage ?? false,
                                             extra: body.chatTemplateKwargs ?? [:], model: model)
            tokens = tokenizer.encode(text, addSpecial: body.addSpecialTokens ?? false, parseSpecial: true)
        case (.some, .some):
            throw OpenAIError.badRequest("send either prompt or messages, not both", param: "messages")
        case (nil, nil):
            throw OpenAIError.badRequest("'prompt' or 'messages' is required", param: "prompt")
        }
        let strs = body.returnTokenStrs == true ? tokens.map { Serving.tokenString($0, tokenizer) } : nil
        return try Serving.json(TokenizeResponse(count: tokens.count, maxModelLen: model.backend.maxModelLen, tokens: tokens,
                                                 tokenStrs: strs))
    }

    func detokenize(_ request: Request) async throws -> Response {
        let body = try await serving.decode(DetokenizeRequest.self, request)
        let model = try serving.host.ready(named: body.model)
        let vocab = model.tokenizer.vocabSize
        for t in body.tokens where t < 0 || Int(t) >= vocab {
            throw OpenAIError.badRequest("token id \(t) is outside the vocabulary (0..<\(vocab))", param: "tokens")
        }
        return try Serving.json(DetokenizeResponse(prompt: model.tokenizer.decode(body.tokens)))
    }
}
