import Foundation
import Hummingbird

/// An error answered in OpenAI's JSON shape, `{"error":{"message","type","param","code"}}`,
/// with vLLM's type names.
public struct OpenAIError: Error, HTTPResponseError, Sendable, Equatable {
    /// The HTTP status.
    public let status: HTTPResponse.Status
    /// What went wrong and what to do.
    public let message: String
    /// The request field at fault, if one is.
    public let param: String?

    /// An error with any status.
    public init(status: HTTPResponse.Status, message: String, param: String? = nil) {
        self.status = status
        self.message = message
        self.param = param
    }

    /// 400: the request is wrong.
    public static func badRequest(_ message: String, param: String? = nil) -> OpenAIError {
        OpenAIError(status: .badRequest, message: message, param: param)
    }

    /// The error `type` vLLM reports for a status.
    var type: String {
        switch status.code {
        case 400: "BadRequestError"
        case 401: "AuthenticationError"
        case 404: "NotFoundError"
        case 405: "MethodNotAllowedError"
        case 413: "RequestTooLargeError"
        case 429: "RateLimitError"
        case 503: "ServiceUnavailableError"
        default: "InternalServerError"
        }
    }

    /// The JSON body.
    func body() -> Data {
        struct Inner: Encodable {
            let message: String
            let type: String
            let param: String?
            let code: Int
            func encode(to encoder: any Encoder) throws {
                enum K: String, CodingKey { case message, type, param, code }
                var c = encoder.container(keyedBy: K.self)
                try c.encode(message, forKey: .message)
                try c.encode(type, forKey: .type)
                try c.encode(param, forKey: .param)
                try c.encode(code, forKey: .code)
            }
        }
        struct Outer: Encodable { let error: Inner }
        let value = Outer(error: Inner(message: message, type: type, param: param, code: status.code))
        return (try? JSONEncoder().encode(value)) ?? Data(#"{"error":{"message":"error","type":"InternalServerError","param":null,"code":500}}"#.utf8)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body())))
    }
}
