/// What `pagewise pull` recorded about a model it fetched from the Hub (`hub/manifests/*.json`),
/// so that later runs find the file without asking the Hub.
public struct HubManifest: Codable, Sendable, Equatable {
    /// One file as the Hub described it.
    public struct File: Codable, Sendable, Equatable {
        /// Path in the repository.
        public var path: String
        /// Size in bytes.
        public var size: Int?
        /// LFS sha256.
        public var sha256: String?
    }

    /// The canonical name (`hf.co/OWNER/REPO:QUANT` or `OWNER/REPO/FILE.gguf`).
    public var name: String
    /// `OWNER/REPO`.
    public var repository: String
    /// Branch, tag or commit.
    public var revision: String
    /// The files fetched (several for a split model).
    public var files: [File]
    /// The local GGUF file (split models are merged into one).
    public var path: String
}
