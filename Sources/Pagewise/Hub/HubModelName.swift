/// A model on the Hugging Face Hub, as `pagewise pull` and `--model` spell it:
/// `hf.co/OWNER/REPO[:QUANT]` (Ollama's spelling: the GGUF of that quantization, Q4_K_M unless
/// named) or `OWNER/REPO/FILE.gguf` (one file, which may sit in a folder of the repository).
public struct HubModelName: Sendable, Equatable, CustomStringConvertible {
    /// What to take from the repository.
    public enum Selection: Sendable, Equatable {
        /// The GGUF whose name carries this quantization (e.g. `Q4_K_M`); nil means the default.
        case quantization(String?)
        /// One file by its path in the repository.
        case file(String)
    }

    /// The quantization picked when an `hf.co/` name names none.
    public static let defaultQuantization = "Q4_K_M"

    /// `OWNER/REPO`.
    public let repository: String
    /// The branch, tag or commit (`main` unless the name ends in `@REVISION`).
    public let revision: String
    /// What to take.
    public let selection: Selection

    /// Makes a name.
    public init(repository: String, revision: String = "main", selection: Selection) {
        self.repository = repository
        self.revision = revision
        self.selection = selection
    }

    /// Reads a name, or nil when `text` is not one (a local path or a named model).
    public init?(_ text: String) {
        var body = Substring(text)
        var hubPrefix = false
        for prefix in ["https://huggingface.co/", "https://hf.co/", "huggingface.co/", "hf.co/", "hf://"] where body.hasPrefix(prefix) {
            body = body.dropFirst(prefix.count)
            hubPrefix = true
            break
        }
        guard !body.hasPrefix("/"), !body.hasPrefix("."), !body.hasPrefix("~") else { return nil }
        var revision = "main"
        if let at = body.lastIndex(of: "@"), !body[body.index(after: at)...].contains("/") {
            revision = String(body[body.index(after: at)...])
            body = body[..<at]
            guard !revision.isEmpty else { return nil }
        }
        var parts = body.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var quant: String?
        if parts.count == 2, let colon = parts[1].firstIndex(of: ":") {
            quant = String(parts[1][parts[1].index(after: colon)...]).uppercased()
            parts[1] = String(parts[1][..<colon])
            guard quant?.isEmpty == false else { return nil }
        }
        guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else { return nil }
        let valid = parts.prefix(2).allSatisfy { $0.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) } }
        guard valid else { return nil }
        if parts.count == 2 {
            guard hubPrefix else { return nil }
            self.init(repository: "\(parts[0])/\(parts[1])", revision: revision, selection: .quantization(quant))
        } else {
            guard parts.last?.lowercased().hasSuffix(".gguf") == true else { return nil }
            self.init(repository: "\(parts[0])/\(parts[1])", revision: revision,
                      selection: .file(parts.dropFirst(2).joined(separator: "/")))
        }
    }

    /// The canonical spelling (`hf.co/OWNER/REPO:QUANT` or `OWNER/REPO/FILE.gguf`).
    public var description: String {
        let rev = revision == "main" ? "" : "@\(revision)"
        switch selection {
        case let .quantization(q): return "hf.co/\(repository):\(q ?? Self.defaultQuantization)\(rev)"
        case let .file(path): return "\(repository)/\(path)\(rev)"
        }
    }
}
