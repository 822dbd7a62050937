/// One model of `GET /v1/models`.
struct ModelCard: Encodable, Sendable {
    var id: String
    var object = "model"
    var created: Int
    var ownedBy = "pagewise"
    var root: String
    var maxModelLen: Int

    enum CodingKeys: String, CodingKey {
        case id, object, created, root
        case ownedBy = "owned_by"
        case maxModelLen = "max_model_len"
    }
}

/// `GET /v1/models`.
struct ModelList: Encodable, Sendable {
    var object = "list"
    var data: [ModelCard]
}

/// `POST /tokenize`.
struct TokenizeResponse: Encodable, Sendable {
    var count: Int
    var maxModelLen: Int
    var tokens: [Int32]
    var tokenStrs: [String]?

    enum CodingKeys: String, CodingKey {
        case count, tokens
        case maxModelLen = "max_model_len"
        case tokenStrs = "token_strs"
    }
}

/// `POST /detokenize`.
struct DetokenizeResponse: Encodable, Sendable {
    var prompt: String
}

/// `GET /version`.
struct VersionResponse: Encodable, Sendable {
    var version: String
}
