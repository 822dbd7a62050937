import Foundation
import GGUF

/// A model in the cache, as `pagewise list` shows it.
public struct LocalModel: Sendable, Equatable {
    /// The name `--model` and `pagewise rm` take.
    public var name: String
    /// The GGUF file.
    public var path: String
    /// Bytes on disk.
    public var size: Int
    /// `general.architecture`.
    public var architecture: String?
    /// The quantization (from `general.file_type`, else the most common tensor type).
    public var quantization: String?
}

extension ModelStore {
    /// Where pulled Hub models live.
    public var hubDirectory: String { "\(cacheDirectory)/hub" }

    private func manifestPath(_ name: String) -> String {
        let safe = name.addingPercentEncoding(withAllowedCharacters: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._"))) ?? name
        return "\(hubDirectory)/manifests/\(safe).json"
    }

    /// The manifest of a pulled model, if it was pulled and its file is still there.
    public func manifest(for name: HubModelName) -> HubManifest? {
        guard let data = FileManager.default.contents(atPath: manifestPath(name.description)),
              let m = try? JSONDecoder().decode(HubManifest.self, from: data),
              FileManager.default.fileExists(atPath: m.path) else { return nil }
        return m
    }

    /// Fetches `name` from the Hub into the cache (or finds it there) and returns the GGUF path.
    /// Split models (`-00001-of-0000N.gguf`) are downloaded shard by shard and merged into one file.
    public func pull(_ name: HubModelName, client: HubClient = HubClient(),
                     log: @escaping @Sendable (String) -> Void = { _ in },
                     progress: @escaping @Sendable (DownloadProgress) -> Void = { _ in }) throws -> String {
        if let m = manifest(for: name) { return m.path }
        let files = try resolveFiles(name, client: client)
        let repoDir = "\(hubDirectory)/\(name.repository)"
        let downloader = HubDownloader(client: client)
        let path: String
        if files.count == 1, let file = files.first {
            path = "\(repoDir)/\((file.path as NSString).lastPathComponent)"
            log("pulling \(name) (\(file.path)\(file.size.map { ", " + ByteFormat.string($0) } ?? ""))")
            try downloader.download(repository: name.repository, revision: name.revision, file: file, to: path, progress: progress)
        } else {
            let first = (files[0].path as NSString).lastPathComponent
            guard let shard = GGUFSplit.shard(ofFileName: first) else { throw HubError.badResponse("\(first) is not a shard name") }
            path = "\(repoDir)/\(shard.stem).gguf"
            let total = files.compactMap(\.size).reduce(0, +)
            log("pulling \(name) (\(files.count) shards, \(ByteFormat.string(total)))")
            var shardPaths: [String] = []
            for f in files {
                let p = "\(repoDir)/.shards/\((f.path as NSString).lastPathComponent)"
                try downloader.download(repository: name.repository, revision: name.revision, file: f, to: p, progress: progress)
                shardPaths.append(p)
            }
            log("merging \(files.count) shards into \(path)")
            let merging = path + ".merging"
            try GGUFSplit.merge(shards: shardPaths, into: merging)
            guard rename(merging, path) == 0 else { throw HubError.io("cannot move \(merging) to \(path)") }
            for p in shardPaths { try? FileManager.default.removeItem(atPath: p) }
        }
        let manifest = HubManifest(name: name.description, repository: name.repository, revision: name.revision,
                                   files: files.map { .init(path: $0.path, size: $0.size, sha256: $0.sha256) }, path: path)
        try FileManager.default.createDirectory(atPath: "\(hubDirectory)/manifests", withIntermediateDirectories: true)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try enc.encode(manifest).write(to: URL(fileURLWithPath: manifestPath(name.description)), options: .atomic)
        log("cached at \(path)")
        return path
    }

    /// The files that make the model: one GGUF, or every shard of a split one, in order.
    func resolveFiles(_ name: HubModelName, client: HubClient) throws -> [HubFile] {
        switch name.selection {
        case let .file(path):
            let dir = (path as NSString).deletingLastPathComponent
            let paths: [String]
            if let shard = GGUFSplit.shard(ofFileName: (path as NSString).lastPathComponent) {
                paths = GGUFSplit.shardNames(stem: shard.stem, count: shard.count).map { dir.isEmpty ? $0 : "\(dir)/\($0)" }
            } else {
                paths = [path]
            }
            return try paths.map { try client.fileInfo(repository: name.repository, revision: name.revision, path: $0) }
        case let .quantization(q):
            let all = try client.listFiles(repository: name.repository, revision: name.revision)
            let ggufs = all.filter { $0.path.lowercased().hasSuffix(".gguf") && !$0.path.lowercased().contains("mmproj") }
            let quant = q ?? HubModelName.defaultQuantization
            var matches = ggufs.filter { Self.nameCarries($0.path, quantization: quant) }
            if matches.isEmpty, q == nil, Set(ggufs.map { Self.modelKey($0.path) }).count == 1 { matches = ggufs }
            guard let pick = matches.min(by: { ($0.path.count, $0.path) < ($1.path.count, $1.path) }) else {
                let quants = Set(ggufs.compactMap { Self.quantization(inFileName: $0.path) }).sorted()
                throw HubError.noMatchingFile(repository: name.repository, quantization: quant, available: quants)
            }
            let base = (pick.path as NSString).lastPathComponent
            guard let shard = GGUFSplit.shard(ofFileName: base) else {
                return [try withHash(pick, name, client)]
            }
            let dir = (pick.path as NSString).deletingLastPathComponent
            return try GGUFSplit.shardNames(stem: shard.stem, count: shard.count).map { n in
                let p = dir.isEmpty ? n : "\(dir)/\(n)"
                guard let f = ggufs.first(where: { $0.path == p }) else {
                    throw HubError.notFound("shard \(p) of \(name) (the repository lists only some shards)")
                }
                return try withHash(f, name, client)
            }
        }
    }

    private func withHash(_ f: HubFile, _ name: HubModelName, _ client: HubClient) throws -> HubFile {
        if f.sha256 != nil, f.size != nil { return f }
        return try client.fileInfo(repository: name.repository, revision: name.revision, path: f.path)
    }

    /// A file name without its shard suffix and extension (shards of one model share it).
    private static func modelKey(_ path: String) -> String {
        let base = (path as NSString).lastPathComponent
        return GGUFSplit.shard(ofFileName: base)?.stem ?? base
    }

    /// True when the file name holds `quantization` as a whole word (`Model-Q4_K_M.gguf`,
    /// `model.q4_k_m-00001-of-00002.gguf`).
    static func nameCarries(_ path: String, quantization: String) -> Bool {
        let words = modelKey(path).uppercased().replacingOccurrences(of: ".GGUF", with: "")
            .split(whereSeparator: { "-.".contains($0) }).map(String.init)
        let q = quantization.uppercased()
        return words.contains { $0 == q || $0.hasSuffix("_" + q) }
    }

    /// The quantization a file name carries, if it carries a known one.
    static func quantization(inFileName path: String) -> String? {
        let words = modelKey(path).uppercased().replacingOccurrences(of: ".GGUF", with: "")
            .split(whereSeparator: { "-.".contains($0) }).map(String.init)
        return words.last { w in
            w == "F16" || w == "F32" || w == "BF16" || (w.hasPrefix("Q") || w.hasPrefix("IQ")) && w.contains { $0.isNumber } && w.count <= 8
        }
    }

    /// Every model in the cache: the named models fetched so far and the models pulled from the Hub.
    public func localModels() -> [LocalModel] {
        var out: [LocalModel] = []
        for m in NamedModel.all {
            let p = cachedPath(for: m)
            if FileManager.default.fileExists(atPath: p) { out.append(Self.describe(name: m.name, path: p)) }
        }
        let dir = "\(hubDirectory)/manifests"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        for n in names.sorted() where n.hasSuffix(".json") {
            guard let data = FileManager.default.contents(atPath: "\(dir)/\(n)"),
                  let m = try? JSONDecoder().decode(HubManifest.self, from: data),
                  FileManager.default.fileExists(atPath: m.path) else { continue }
            out.append(Self.describe(name: m.name, path: m.path))
        }
        return out
    }

    /// Deletes a cached model by the name `localModels()` lists (or any spelling of it);
    /// returns the files removed.
    @discardableResult
    public func remove(_ name: String) throws -> [String] {
        var removed: [String] = []
        func rm(_ p: String) {
            if (try? FileManager.default.removeItem(atPath: p)) != nil { removed.append(p) }
        }
        if let m = NamedModel.named(name) {
            let p = cachedPath(for: m)
            rm(p)
            rm(p + ".sha256")
        } else if let h = HubModelName(name) ?? HubModelName("hf.co/" + name) {
            let mp = manifestPath(h.description)
            if let data = FileManager.default.contents(atPath: mp), let m = try? JSONDecoder().decode(HubManifest.self, from: data) {
                rm(m.path)
                rm(m.path + ".lock")
                rm(mp)
            }
        }
        guard !removed.isEmpty else { throw ModelStoreError.notInCache(name) }
        return removed
    }

    /// Reads the architecture and quantization of a GGUF file for the listing.
    static func describe(name: String, path: String) -> LocalModel {
        let size = HubDownloader.fileSize(path) ?? 0
        guard let file = try? GGUFFile(path: path) else {
            return LocalModel(name: name, path: path, size: size, architecture: nil, quantization: nil)
        }
        var quant = file.metadata.int("general.file_type").flatMap { Self.fileTypeNames[$0] }
        if quant == nil {
            var bytes: [String: Int] = [:]
            for t in file.tensors { bytes[t.type.name, default: 0] += t.byteCount }
            quant = bytes.max { $0.value < $1.value }?.key
        }
        return LocalModel(name: name, path: path, size: size, architecture: file.architecture, quantization: quant)
    }

    /// llama.cpp's `llama_ftype` values.
    static let fileTypeNames: [Int: String] = [
        0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
        12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
        19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
        26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
    ]
}

/// Byte counts for people.
public enum ByteFormat {
    /// `1.2 GB`, `340 MB`, `12 KB`.
    public static func string(_ bytes: Int) -> String {
        let b = Double(bytes)
        if b >= 1e9 { return String(format: "%.1f GB", b / 1e9) }
        if b >= 1e6 { return String(format: "%.0f MB", b / 1e6) }
        if b >= 1e3 { return String(format: "%.0f KB", b / 1e3) }
        return "\(bytes) B"
    }
}
