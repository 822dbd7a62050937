/// What went wrong talking to the Hugging Face Hub, each saying what to do.
public enum HubError: Error, CustomStringConvertible, Sendable, Equatable {
    /// 401 or 403: the repository is gated or private.
    case unauthorized(repository: String, hadToken: Bool)
    /// 404: no such repository, revision or file.
    case notFound(String)
    /// Another HTTP status.
    case http(status: Int, url: String)
    /// The connection failed (after the retries).
    case network(String)
    /// No GGUF of the asked quantization in the repository.
    case noMatchingFile(repository: String, quantization: String, available: [String])
    /// The downloaded bytes do not hash to the Hub's LFS sha256.
    case checksumMismatch(file: String, expected: String, actual: String)
    /// The Hub's answer could not be read.
    case badResponse(String)
    /// A local file could not be written.
    case io(String)

    public var description: String {
        switch self {
        case let .unauthorized(repo, hadToken):
            return hadToken
                ? "the Hub refused access to \(repo) with the HF_TOKEN given; accept the model's terms on its page and check the token can read it"
                : "\(repo) is gated or private; set HF_TOKEN to a Hugging Face access token that can read it"
        case let .notFound(what):
            return "not found on the Hub: \(what); check the owner, repository, revision and file name"
        case let .http(status, url):
            return "the Hub answered HTTP \(status) for \(url); try again later"
        case let .network(why):
            return "cannot reach the Hub: \(why); check the network or set HF_ENDPOINT to a mirror, then pull again (the download resumes)"
        case let .noMatchingFile(repo, quant, available):
            let list = available.isEmpty ? "it holds no GGUF files" : "it offers: \(available.joined(separator: ", "))"
            return "\(repo) has no GGUF of quantization \(quant); \(list) (name one as hf.co/\(repo):QUANT)"
        case let .checksumMismatch(file, expected, actual):
            return "\(file) has sha256 \(actual), the Hub says \(expected); the download was removed, pull again"
        case let .badResponse(why):
            return "unexpected answer from the Hub: \(why)"
        case let .io(why):
            return "cannot write the model: \(why)"
        }
    }
}
