import Foundation
import Testing

/// `pagewise pull`, `--model hf.co/…`, `list` and `rm` against the stand-in Hub (HF_ENDPOINT).
@Suite(.serialized, .enabled(if: FakeHub.pythonAvailable, "python3 runs the stand-in Hub"))
struct HubCLITests {
    static func run(_ args: [String], hub: FakeHub) throws -> CLITests.Run {
        let p = Process()
        p.executableURL = try CLITests.binary()
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["HF_ENDPOINT"] = hub.endpoint
        env["PAGEWISE_CACHE"] = hub.cache.path
        env["HF_TOKEN"] = nil
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLITests.Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    @Test func pullListGenerateRemove() throws {
        let hub = try FakeHub()
        let pull = try Self.run(["pull", "hf.co/test/split:Q8_0"], hub: hub)
        #expect(pull.status == 0, "\(pull.stderr)")
        let path = pull.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(path.hasPrefix(hub.cache.path) && path.hasSuffix("/tiny-Q8_0.gguf"))
        // Not a terminal: plain progress lines, no carriage returns.
        #expect(pull.stderr.contains("tiny-Q8_0-00003-of-00003.gguf: 31 KB / 31 KB (100%)"), "\(pull.stderr)")
        #expect(pull.stderr.contains("merging 3 shards"))
        #expect(!pull.stderr.contains("\r"))

        // --model pulls on first use.
        let gen = try Self.run(["generate", "--model", "test/tiny/tiny-Q8_0.gguf", "--max-tokens", "2", "--temperature", "0",
                                "--threads", "1", "--json", "hello"], hub: hub)
        #expect(gen.status == 0, "\(gen.stderr)")
        #expect(gen.stderr.contains("pulling test/tiny/tiny-Q8_0.gguf"))

        let list = try Self.run(["list"], hub: hub)
        let lines = list.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("NAME") == true)
        let row = try #require(lines.first { $0.hasPrefix("hf.co/test/split:Q8_0 ") })
        #expect(row.contains("llama") && row.contains("Q8_0") && row.contains("109 KB") && row.hasSuffix(path))
        #expect(lines.contains { $0.hasPrefix("test/tiny/tiny-Q8_0.gguf ") })

        let rm = try Self.run(["rm", "hf.co/test/split:Q8_0"], hub: hub)
        #expect(rm.status == 0 && rm.stderr.contains("removed \(path)"))
        #expect(!(try Self.run(["list"], hub: hub).stdout.contains("hf.co/test/split")))
        let again = try Self.run(["rm", "hf.co/test/split:Q8_0"], hub: hub)
        #expect(again.status == 1 && again.stderr.contains("pagewise list"))

        let gated = try Self.run(["pull", "hf.co/gated/tiny:Q8_0"], hub: hub)
        #expect(gated.status == 1 && gated.stderr.contains("HF_TOKEN"), "\(gated.stderr)")
    }
}
