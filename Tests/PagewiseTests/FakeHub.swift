import Foundation

/// `scripts/fake_hub.py` on a loopback port, serving a temporary tree of repositories made of
/// the tiny test models, so pull tests never touch the real Hub.
final class FakeHub {
    let root: URL
    let cache: URL
    let logFile: URL
    let process = Process()
    let port: Int

    static var repoRoot: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
    static var tiny: URL { repoRoot.appendingPathComponent("Tests/ModelsTests/Fixtures/tiny") }
    static var splitFixtures: URL { repoRoot.appendingPathComponent("Tests/PagewiseTests/Fixtures/split") }
    static let pythonAvailable = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
        || (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/python3")
        }

    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Repositories: test/tiny (Q8_0, Q4_K_M, a README), test/split (three shards of Q8_0),
    /// gated/tiny (401 without the token "secret"), test/only (a single GGUF of no default quant).
    init(extra: [String] = []) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("pagewise-hub-\(UUID().uuidString)")
        let root = base.appendingPathComponent("root")
        self.root = root
        cache = base.appendingPathComponent("cache")
        let logFile = base.appendingPathComponent("log.jsonl")
        self.logFile = logFile
        let fm = FileManager.default
        for repo in ["test/tiny", "test/split", "gated/tiny", "test/only"] {
            try fm.createDirectory(at: root.appendingPathComponent(repo), withIntermediateDirectories: true)
        }
        func copy(_ from: URL, _ to: String) throws { try fm.copyItem(at: from, to: root.appendingPathComponent(to)) }
        try copy(Self.tiny.appendingPathComponent("llama-q8_0.gguf"), "test/tiny/tiny-Q8_0.gguf")
        try copy(Self.tiny.appendingPathComponent("llama-q4_1.gguf"), "test/tiny/tiny-Q4_K_M.gguf")
        try Data("# tiny\n".utf8).write(to: root.appendingPathComponent("test/tiny/README.md"))
        for i in 1 ... 3 {
            let n = "tiny-Q8_0-0000\(i)-of-00003.gguf"
            try copy(Self.splitFixtures.appendingPathComponent(n), "test/split/\(n)")
        }
        try copy(Self.tiny.appendingPathComponent("llama-q8_0.gguf"), "gated/tiny/tiny-Q8_0.gguf")
        try copy(Self.tiny.appendingPathComponent("llama-q4_0.gguf"), "test/only/model.gguf")
        guard fm.createFile(atPath: logFile.path, contents: nil) else { throw HubTestError.serverDidNotStart }

        let process = self.process
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.repoRoot.appendingPathComponent("scripts/fake_hub.py").path, root.path, logFile.path,
                             "--gated", "gated/tiny", "--token", "secret"] + extra
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let d = out.fileHandleForReading.availableData
            if d.isEmpty { break }
            line.append(d)
        }
        guard let p = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw HubTestError.serverDidNotStart
        }
        port = p
    }

    deinit {
        // SIGKILL: a signal mask inherited from a dispatch thread cannot hold it back.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: root.deletingLastPathComponent())
    }

    struct Request: Decodable {
        let method: String
        let path: String
        let range: String?
        let auth: String?
    }

    /// Every request the server saw, in order.
    func requests() throws -> [Request] {
        let text = try String(contentsOf: logFile, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }

    func bytes(_ repoPath: String) throws -> Data { try Data(contentsOf: root.appendingPathComponent(repoPath)) }
}

enum HubTestError: Error { case serverDidNotStart }
