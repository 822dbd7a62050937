import Foundation
import Testing

/// Runs `scripts/test_chat_page.py` (the real `pagewise serve` and its chat page in headless
/// Chromium, driven over the DevTools protocol) when Debian's `chromium` (or `$PAGEWISE_CHROMIUM`)
/// and a `python3` are installed; skipped, with the reason, otherwise. Like the openai-client test it
/// wants a release build (or `PAGEWISE_OPENAI_SCRIPT=1`).
@Suite struct ChatPageBrowserTests {
    static var chromium: String? {
        if let given = ProcessInfo.processInfo.environment["PAGEWISE_CHROMIUM"] {
            return FileManager.default.isExecutableFile(atPath: given) ? given : nil
        }
        return ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap(ScriptRunner.onPath).first
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed (apt-get install chromium): the chat page's browser test is skipped"),
          .enabled(if: ScriptRunner.python != nil && OpenAIClientScriptTests.binary != nil, "needs python3 and the built pagewise"),
          .enabled(if: OpenAIClientScriptTests.wanted, "debug build: set PAGEWISE_OPENAI_SCRIPT=1 to run it"))
    func theChatPageInHeadlessChromium() throws {
        let shot = FileManager.default.temporaryDirectory.appendingPathComponent("pw-chat-page-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: shot) }
        let (status, output) = try ScriptRunner.run(try #require(ScriptRunner.python), script: "test_chat_page.py",
                                                    arguments: ["--pagewise", try #require(OpenAIClientScriptTests.binary).path,
                                                                "--screenshot", shot.path])
        #expect(status == 0, "\(output)")
        #expect(output.contains(" passed, 0 failed"), "\(output)")
        #expect(FileManager.default.fileExists(atPath: shot.path), "no screenshot was saved")
    }
}
