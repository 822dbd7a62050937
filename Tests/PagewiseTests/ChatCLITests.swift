import Foundation
import Testing
import TestSupport

/// `pagewise chat` as a person meets it: through a pipe, and in a terminal (tmux) with Ctrl-C.
@Suite(.serialized)
struct ChatCLITests {
    static func chatArguments(_ model: String) -> [String] {
        ["chat", "--model", model, "--temperature", "0", "--max-tokens", "3", "--threads", "2", "--context", "512"]
    }

    /// The cached prompt tokens of each stats line ("… prompt 40 tokens (32 cached)").
    static func cachedCounts(_ text: String) -> [Int] {
        text.split(separator: "\n").compactMap { line in
            guard let r = line.range(of: " cached)") else { return nil }
            return Int(line[..<r.lowerBound].split(separator: "(").last ?? "")
        }
    }

    @Test func pipedTurns() throws {
        let model = try TestModels.path("smollm2-135m-instruct")
        let saved = FileManager.default.temporaryDirectory.appendingPathComponent("chat-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: saved) }
        let input = "Name a colour.\n/params max_tokens=2\nAnother\\\none.\n/save \(saved.path)\n/exit\nnever sent\n"
        let p = Process()
        p.executableURL = try CLITests.binary()
        p.arguments = Self.chatArguments(model)
        let stdin = Pipe(), out = Pipe(), err = Pipe()
        p.standardInput = stdin
        p.standardOutput = out
        p.standardError = err
        try p.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(e)")
        // Plain text: no prompts, no escape sequences; each answer followed by a newline (checked
        // against the saved history below: an answer may itself hold newlines).
        #expect(!o.contains(">>>") && !o.contains("\u{1B}"))
        let cached = Self.cachedCounts(e)
        #expect(cached.count == 2, "\(e)")
        #expect(cached.first == 0)
        #expect((cached.last ?? 0) > 0)
        #expect(e.contains("max_tokens=2"))
        struct Message: Decodable { let role: String; let content: String }
        let messages = try JSONDecoder().decode([Message].self, from: Data(contentsOf: saved))
        #expect(messages.map(\.role) == ["user", "assistant", "user", "assistant"])
        #expect(messages[2].content == "Another\none.")
        #expect(o == messages[1].content + "\n" + messages[3].content + "\n", "\(o)")
    }

    static let tmuxAvailable = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].contains { FileManager.default.isExecutableFile(atPath: $0) }

    static let socket = "pagewise-test-\(getpid())"

    /// Runs tmux through the C library's popen (Foundation's Process never saw the client exit
    /// once the client had started the server) and returns its stdout.
    static func tmux(_ args: [String]) -> String {
        let quoted = (["tmux", "-L", socket] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let sink = args.first == "capture-pane" ? "" : " >/dev/null"
        guard let f = popen(quoted.joined(separator: " ") + sink + " 2>/dev/null </dev/null", "r") else { return "" }
        var out = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            out += buffer[0 ..< n]
        }
        pclose(f)
        return String(decoding: out, as: UTF8.self)
    }

    /// Polls the pane until `predicate` holds (or the time runs out); returns the last capture.
    static func waitFor(_ session: String, seconds: Double, _ predicate: (String) -> Bool) -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var pane = ""
        while Date() < deadline {
            pane = tmux(["capture-pane", "-p", "-J", "-S", "-200", "-t", session])
            if predicate(pane) { return pane }
            Thread.sleep(forTimeInterval: 0.5)
        }
        return pane
    }

    @Test(.enabled(if: tmuxAvailable, "tmux drives the terminal session"))
    func terminalSessionWithCtrlC() throws {
        let model = try TestModels.path("smollm2-135m-instruct")
        let name = "pagewise-chat-\(UUID().uuidString.prefix(8))"
        let command = ([try CLITests.binary().path] + Self.chatArguments(model)).map { "'\($0)'" }.joined(separator: " ")
        // The server must not hold popen's pipe open: new-session's output goes to /dev/null.
        _ = Self.tmux(["new-session", "-d", "-s", name, "-x", "160", "-y", "50", command + "; echo CHAT-EXITED $?; sleep 30"])
        defer { _ = Self.tmux(["kill-server"]) }

        var pane = Self.waitFor(name, seconds: 300) { $0.contains(">>> ") }
        #expect(pane.contains("/help"), "\(pane)")
        _ = Self.tmux(["send-keys", "-t", name, "Name a colour.", "Enter"])
        pane = Self.waitFor(name, seconds: 300) { $0.contains("tok/s") }
        #expect(pane.contains("(0 cached)"), "\(pane)")

        _ = Self.tmux(["send-keys", "-t", name, "/params max_tokens=400 ignore_eos=true", "Enter"])
        _ = Self.waitFor(name, seconds: 30) { $0.contains("ignore_eos=true") }
        _ = Self.tmux(["send-keys", "-t", name, "Count from one to five hundred.", "Enter"])
        // Wait for some of the answer, then Ctrl-C.
        pane = Self.waitFor(name, seconds: 300) { p in
            guard let r = p.range(of: "Count from one to five hundred.") else { return false }
            return p[r.upperBound...].contains { $0.isLetter || $0.isNumber }
        }
        _ = Self.tmux(["send-keys", "-t", name, "C-c"])
        pane = Self.waitFor(name, seconds: 120) { $0.contains("interrupted") }
        #expect(pane.contains("^C"), "\(pane)")
        #expect(pane.contains("interrupted"), "\(pane)")
        let counts = Self.cachedCounts(pane)
        #expect(counts.count == 2 && (counts.last ?? 0) > 0, "\(pane)")

        // Still alive: a command answers, then /exit leaves with status 0.
        _ = Self.tmux(["send-keys", "-t", name, "/exit", "Enter"])
        pane = Self.waitFor(name, seconds: 60) { $0.contains("CHAT-EXITED") }
        #expect(pane.contains("CHAT-EXITED 0"), "\(pane)")
    }
}
