import Foundation

/// Runs one of `scripts/` with a Python and returns its exit status and everything it printed.
enum ScriptRunner {
    /// `python3` from `$PAGEWISE_PYTHON` or PATH (the browser and routing scripts need only the standard library).
    static var python: String? {
        if let given = ProcessInfo.processInfo.environment["PAGEWISE_PYTHON"], FileManager.default.isExecutableFile(atPath: given) {
            return given
        }
        return onPath("python3")
    }

    static func onPath(_ name: String) -> String? {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return dirs.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func run(_ python: String, script: String, arguments: [String]) throws -> (status: Int32, output: String) {
        try exec(python, [OpenAIClientScriptTests.root.appendingPathComponent("scripts/\(script)").path] + arguments)
    }

    /// Runs `executable` with `arguments` to its end; its status and its output (stdout and stderr).
    static func exec(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        // Output to a file, not a pipe: Foundation's pipe reads trap on EINTR.
        let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("pw-script-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outURL) }
        let out = try FileHandle(forWritingTo: outURL)
        p.standardOutput = out
        p.standardError = out
        try p.run()
        p.waitUntilExit()
        try out.close()
        return (p.terminationStatus, String(decoding: try Data(contentsOf: outURL), as: UTF8.self))
    }
}
