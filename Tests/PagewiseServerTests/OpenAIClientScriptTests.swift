import Foundation
import Testing

/// Runs `scripts/test_server_openai.py` (the real `pagewise serve` driven by the real `openai`
/// client) when a Python with `openai` is at hand: `$PAGEWISE_PYTHON`, or `tools/venv/bin/python`.
/// Debug builds generate too slowly for it; there it runs only with `PAGEWISE_OPENAI_SCRIPT=1`.
@Suite struct OpenAIClientScriptTests {
    static var wanted: Bool {
        #if DEBUG
        return ProcessInfo.processInfo.environment["PAGEWISE_OPENAI_SCRIPT"] == "1"
        #else
        return true
        #endif
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var python: String? {
        let candidates: [String?] = [ProcessInfo.processInfo.environment["PAGEWISE_PYTHON"], root.appendingPathComponent("tools/venv/bin/python").path]
        for case let c? in candidates where FileManager.default.isExecutableFile(atPath: c) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: c)
            p.arguments = ["-c", "import openai"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            guard (try? p.run()) != nil else { continue }
            p.waitUntilExit()
            if p.terminationStatus == 0 { return c }
        }
        return nil
    }

    static var binary: URL? {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0 ..< 4 {
            let candidate = dir.appendingPathComponent("pagewise")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        for config in ["release", "debug"] {
            let candidate = root.appendingPathComponent(".build/\(config)/pagewise")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    @Test(.enabled(if: wanted && python != nil && binary != nil,
                   "needs tools/venv with openai (pip install openai), the built pagewise, and a release build or PAGEWISE_OPENAI_SCRIPT=1"))
    func theOpenAIClientAgainstTheRealServer() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(Self.python))
        p.arguments = [Self.root.appendingPathComponent("scripts/test_server_openai.py").path, "--pagewise", try #require(Self.binary).path]
        // Output to a file, not a pipe: Foundation's pipe reads trap on EINTR.
        let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("pw-openai-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outURL) }
        let out = try FileHandle(forWritingTo: outURL)
        p.standardOutput = out
        p.standardError = out
        try p.run()
        p.waitUntilExit()
        try out.close()
        let text = String(decoding: try Data(contentsOf: outURL), as: UTF8.self)
        #expect(p.terminationStatus == 0, "\(text)")
    }
}
