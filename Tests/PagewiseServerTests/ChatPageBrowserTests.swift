import Foundation
import Testing

/// Runs `scripts/test_chat_page.py` (the real `pagewise serve` and its chat page in headless
/// Chromium, driven over the DevTools protocol) when Debian's `chromium` (or `$PAGEWISE_CHROMIUM`)
/// and a `python3` are installed; skipped, with the reason, otherwise. Like the openai-client test it
/// wants a release build (or `PAGEWISE_OPENAI_SCRIPT=1`).
@Suite struct ChatPageBrowserTests {
    static func onPath(_ name: String) -> String? {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return dirs.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var chromium: String? {
        if let given = ProcessInfo.processInfo.environment["PAGEWISE_CHROMIUM"] {
            return FileManager.default.isExecutableFile(atPath: given) ? given : nil
        }
        return ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap(onPath).first
    }

    static var python: String? {
        if let given = ProcessInfo.processInfo.environment["PAGEWISE_PYTHON"], FileManager.default.isExecutableFile(atPath: given) {
            return given
        }
        return onPath("python3")
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed (apt-get install chromium): the chat page's browser test is skipped"),
          .enabled(if: python != nil && OpenAIClientScriptTests.binary != nil, "needs python3 and the built pagewise"),
          .enabled(if: OpenAIClientScriptTests.wanted, "debug build: set PAGEWISE_OPENAI_SCRIPT=1 to run it"))
    func theChatPageInHeadlessChromium() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(Self.python))
        let shot = FileManager.default.temporaryDirectory.appendingPathComponent("pw-chat-page-\(UUID().uuidString).png")
        p.arguments = [OpenAIClientScriptTests.root.appendingPathComponent("scripts/test_chat_page.py").path,
                       "--pagewise", try #require(OpenAIClientScriptTests.binary).path, "--screenshot", shot.path]
        // Output to a file, not a pipe: Foundation's pipe reads trap on EINTR.
        let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("pw-chat-page-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: shot)
        }
        let out = try FileHandle(forWritingTo: outURL)
        p.standardOutput = out
        p.standardError = out
        try p.run()
        p.waitUntilExit()
        try out.close()
        let text = String(decoding: try Data(contentsOf: outURL), as: UTF8.self)
        #expect(p.terminationStatus == 0, "\(text)")
        #expect(text.contains(" passed, 0 failed"), "\(text)")
        #expect(FileManager.default.fileExists(atPath: shot.path), "no screenshot was saved")
    }
}
