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
        let (status, text) = try ScriptRunner.run(try #require(Self.python), script: "test_server_openai.py",
                                                  arguments: ["--pagewise", try #require(Self.binary).path])
        #expect(status == 0, "\(text)")
    }
}
