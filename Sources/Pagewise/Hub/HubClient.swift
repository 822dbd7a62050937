import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A file of a Hub repository, as the tree listing and the `resolve` headers describe it.
public struct HubFile: Sendable, Equatable {
    /// Path in the repository.
    public var path: String
    /// Size in bytes, when known.
    public var size: Int?
    /// The LFS sha256 (lowercase hex), when the file is stored in LFS.
    public var sha256: String?

    /// Makes a file description.
    public init(path: String, size: Int?, sha256: String?) {
        self.path = path
        self.size = size
        self.sha256 = sha256
    }
}

/// The Hugging Face Hub's documented HTTP API: the tree listing
/// (`GET /api/models/{repo}/tree/{revision}`) and file downloads through
/// `GET /{repo}/resolve/{revision}/{path}`, which redirects to a CDN and carries the LFS hash and
/// size in `X-Linked-Etag` / `X-Linked-Size`. `HF_ENDPOINT` points it elsewhere, `HF_TOKEN` is sent
/// as a bearer token (for gated repositories).
public struct HubClient: Sendable {
    /// The Hub's base URL (default `https://huggingface.co`).
    public let endpoint: String
    /// The access token, if any.
    public let token: String?

    /// A client; nil arguments are taken from `HF_ENDPOINT` and `HF_TOKEN` (or `HUGGING_FACE_HUB_TOKEN`);
    /// an empty `token` sends none.
    public init(endpoint: String? = nil, token: String? = nil) {
        let env = ProcessInfo.processInfo.environment
        var e = endpoint ?? env["HF_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://huggingface.co"
        while e.hasSuffix("/") { e.removeLast() }
        self.endpoint = e
        // An empty token means none (and keeps the environment's out).
        let chosen = token ?? [env["HF_TOKEN"], env["HUGGING_FACE_HUB_TOKEN"]].compactMap { $0 }.first { !$0.isEmpty }
        self.token = chosen?.isEmpty == false ? chosen : nil
    }

    /// Every file of `repository` at `revision` (recursively).
    public func listFiles(repository: String, revision: String) throws(HubError) -> [HubFile] {
        let url = "\(endpoint)/api/models/\(repository)/tree/\(escape(revision))?recursive=true"
        let r = try send(url, method: "GET", repository: repository, what: "\(repository)@\(revision)")
        struct Entry: Decodable {
            struct LFS: Decodable { let oid: String?; let size: Int? }
            let type: String
            let path: String
            let size: Int?
            let lfs: LFS?
        }
        guard let entries = try? JSONDecoder().decode([Entry].self, from: r.body) else {
            throw .badResponse("the tree listing of \(repository) is not the JSON list the Hub sends")
        }
        return entries.filter { $0.type == "file" }.map {
            HubFile(path: $0.path, size: $0.lfs?.size ?? $0.size, sha256: $0.lfs?.oid.flatMap(Self.sha256))
        }
    }

    /// Size and LFS hash of one file, from the headers of `HEAD resolve/…` (redirect not followed).
    public func fileInfo(repository: String, revision: String, path: String) throws(HubError) -> HubFile {
        let r = try send(resolveURL(repository: repository, revision: revision, path: path), method: "HEAD",
                         repository: repository, what: "\(repository)/\(path)@\(revision)", followRedirects: false)
        let etag = (r.header("X-Linked-Etag") ?? r.header("ETag")).flatMap(Self.sha256)
        let size = (r.header("X-Linked-Size") ?? r.header("Content-Length")).flatMap { Int($0) }
        return HubFile(path: path, size: size, sha256: etag)
    }

    /// The download URL of a file.
    public func resolveURL(repository: String, revision: String, path: String) -> String {
        "\(endpoint)/\(repository)/resolve/\(escape(revision))/\(path.split(separator: "/").map { escape(String($0)) }.joined(separator: "/"))"
    }

    /// A request with the token.
    func request(_ url: URL, method: String) -> URLRequest {
        var req = URLRequest(url: url)
        req.httpMethod = method
        req.setValue("pagewise", forHTTPHeaderField: "User-Agent")
        if let token { req.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        return req
    }

    /// Maps 401/403/404 and other failures to `HubError`.
    func check(_ status: Int, url: String, repository: String, what: String) throws(HubError) {
        switch status {
        case 200 ..< 400: return
        case 401, 403: throw .unauthorized(repository: repository, hadToken: token != nil)
        case 404: throw .notFound(what)
        default: throw .http(status: status, url: url)
        }
    }

    private func send(_ url: String, method: String, repository: String, what: String,
                      followRedirects: Bool = true) throws(HubError) -> HTTPTransfer.Response {
        guard let u = URL(string: url) else { throw .badResponse("cannot make a URL of \(url)") }
        let r: HTTPTransfer.Response
        do { r = try HTTPTransfer.perform(request(u, method: method), followRedirects: followRedirects) } catch {
            throw .network("\(method) \(url): \(error.localizedDescription)")
        }
        try check(r.status, url: url, repository: repository, what: what)
        return r
    }

    private func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? s
    }

    /// The sha256 in an ETag (`"abc…"`, `W/"abc…"`), or nil when it is not 64 hex digits (a git blob id).
    static func sha256(_ etag: String) -> String? {
        var s = Substring(etag)
        if s.hasPrefix("W/") { s = s.dropFirst(2) }
        let hex = s.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
        guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else { return nil }
        return hex
    }
}
