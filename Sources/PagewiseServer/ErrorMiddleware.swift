import Hummingbird
import Logging

/// Turns every error that reaches the top (unknown routes, Hummingbird's own errors, anything
/// unexpected) into OpenAI's error JSON, so a client always gets the same shape.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as OpenAIError {
            return try e.response(from: request, context: context)
        } catch let e as HTTPError {
            let message: String
            switch e.status {
            case .notFound: message = "no route \(request.method) \(request.uri.path)"
            case .contentTooLarge: message = "the request body is larger than the server accepts (--max-body-bytes)"
            case .methodNotAllowed: message = "method \(request.method) is not allowed on \(request.uri.path)"
            default: message = e.body ?? e.status.reasonPhrase
            }
            return try OpenAIError(status: e.status, message: message).response(from: request, context: context)
        } catch let e as any HTTPResponseError {
            return try OpenAIError(status: e.status, message: e.status == .contentTooLarge
                ? "the request body is larger than the server accepts (--max-body-bytes)" : e.status.reasonPhrase)
                .response(from: request, context: context)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            context.logger.error("request failed: \(error)")
            return try OpenAIError(status: .internalServerError, message: "internal error: \(error)")
                .response(from: request, context: context)
        }
    }
}
