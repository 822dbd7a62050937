import Foundation
import GGUF
@testable import Pagewise
import Testing

/// Pulls from a stand-in Hub on loopback (`scripts/fake_hub.py`): listing, redirects to a CDN
/// path, LFS headers, Range resumption after a dropped connection, 401 / 404, split models.
@Suite(.serialized, .enabled(if: FakeHub.pythonAvailable, "python3 runs the stand-in Hub"))
struct HubTests {
    @Test func namesParse() {
        #expect(HubModelName("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF") ==
            HubModelName(repository: "bartowski/Llama-3.2-1B-Instruct-GGUF", selection: .quantization(nil)))
        #expect(HubModelName("hf.co/o/r:q8_0")?.selection == .quantization("Q8_0"))
        #expect(HubModelName("huggingface.co/o/r:Q4_K_M")?.description == "hf.co/o/r:Q4_K_M")
        #expect(HubModelName("hf.co/o/r")?.description == "hf.co/o/r:Q4_K_M")
        #expect(HubModelName("o/r/sub/m.Q4_0.gguf") == HubModelName(repository: "o/r", selection: .file("sub/m.Q4_0.gguf")))
        #expect(HubModelName("o/r/m.gguf@v1.0")?.revision == "v1.0")
        #expect(HubModelName("o/r") == nil) // a bare pair needs hf.co/
        #expect(HubModelName("/tmp/model.gguf") == nil)
        #expect(HubModelName("./a/b/model.gguf") == nil)
        #expect(HubModelName("smollm2-135m-instruct") == nil)
        #expect(HubModelName("hf.co/o/r:") == nil)
        #expect(HubModelName("o/r/../x.gguf") == nil)
    }

    @Test func shardNames() {
        #expect(GGUFSplit.shard(ofFileName: "Model-Q4_K_M-00002-of-00003.gguf")! == ("Model-Q4_K_M", 2, 3))
        #expect(GGUFSplit.shard(ofFileName: "model-Q4_K_M.gguf") == nil)
        #expect(GGUFSplit.shard(ofFileName: "m-00004-of-00003.gguf") == nil)
        #expect(GGUFSplit.shardNames(stem: "m", count: 2) == ["m-00001-of-00002.gguf", "m-00002-of-00002.gguf"])
    }

    @Test func quantizationInFileNames() {
        #expect(ModelStore.nameCarries("Llama-3.2-1B-Instruct-Q4_K_M.gguf", quantization: "Q4_K_M"))
        #expect(ModelStore.nameCarries("sub/llama.q8_0-00001-of-00002.gguf", quantization: "Q8_0"))
        #expect(!ModelStore.nameCarries("Llama-Q4_K_M.gguf", quantization: "Q4_K"))
        #expect(!ModelStore.nameCarries("Llama-Q4_K_S.gguf", quantization: "Q4_K_M"))
    }

    /// The quantization named after ':' is picked from the listing; the bytes arrive whole and the
    /// file is cached under the name, so a second pull asks the Hub nothing.
    @Test func pullByQuantization() throws {
        let hub = try FakeHub()
        let store = ModelStore(cacheDirectory: hub.cache.path)
        let client = HubClient(endpoint: hub.endpoint, token: "")
        let name = try #require(HubModelName("hf.co/test/tiny:Q8_0"))
        let path = try store.pull(name, client: client)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == hub.bytes("test/tiny/tiny-Q8_0.gguf"))
        let reqs = try hub.requests()
        #expect(reqs.first?.path.hasPrefix("/api/models/test/tiny/tree/main") == true)
        #expect(reqs.contains { $0.path.hasPrefix("/cdn/") }) // followed the redirect
        #expect(try store.pull(name, client: client) == path)
        #expect(try hub.requests().count == reqs.count)
        #expect(!FileManager.default.fileExists(atPath: path + ".partial"))

        // Without a quantization: Q4_K_M.
        let dflt = try store.pull(#require(HubModelName("hf.co/test/tiny")), client: client)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dflt)) == hub.bytes("test/tiny/tiny-Q4_K_M.gguf"))
        // A repository with one GGUF of another quantization gives that one.
        let only = try store.pull(#require(HubModelName("hf.co/test/only")), client: client)
        #expect(try Data(contentsOf: URL(fileURLWithPath: only)) == hub.bytes("test/only/model.gguf"))

        let listed = store.localModels()
        let entry = try #require(listed.first { $0.name == "hf.co/test/tiny:Q8_0" })
        #expect(entry.architecture == "llama")
        #expect(entry.quantization == "Q8_0")
        #expect(entry.size == 108_960)
        #expect(try store.remove("hf.co/test/tiny:Q8_0").contains(path))
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(throws: ModelStoreError.self) { try store.remove("hf.co/test/tiny:Q8_0") }
    }

    /// OWNER/REPO/FILE.gguf: the size and sha256 come from the HEAD's X-Linked-* headers.
    @Test func pullByFile() throws {
        let hub = try FakeHub()
        let store = ModelStore(cacheDirectory: hub.cache.path)
        let client = HubClient(endpoint: hub.endpoint, token: "")
        let info = try client.fileInfo(repository: "test/tiny", revision: "main", path: "tiny-Q8_0.gguf")
        #expect(info.size == 108_960)
        #expect(info.sha256 == (try ModelStore.sha256(ofFile: hub.root.appendingPathComponent("test/tiny/tiny-Q8_0.gguf").path)))
        let path = try store.pull(#require(HubModelName("test/tiny/tiny-Q8_0.gguf")), client: client)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == hub.bytes("test/tiny/tiny-Q8_0.gguf"))
        #expect(try hub.requests().contains { $0.method == "HEAD" && $0.path == "/test/tiny/resolve/main/tiny-Q8_0.gguf" })
        #expect(store.localModels().map(\.name) == ["test/tiny/tiny-Q8_0.gguf"])
    }

    @Test func resumesAfterDroppedConnection() throws {
        let hub = try FakeHub(extra: ["--drop", "tiny-Q8_0.gguf"])
        let store = ModelStore(cacheDirectory: hub.cache.path)
        let reports = Reports()
        let path = try store.pull(#require(HubModelName("test/tiny/tiny-Q8_0.gguf")), client: HubClient(endpoint: hub.endpoint, token: ""),
                                  progress: { reports.add($0) })
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == hub.bytes("test/tiny/tiny-Q8_0.gguf"))
        let cdn = try hub.requests().filter { $0.path.hasPrefix("/cdn/") }
        #expect(cdn.count == 2)
        #expect(cdn.first?.range == nil)
        #expect(cdn.last?.range == "bytes=54480-")
        #expect(reports.last?.finished == true)
        #expect(reports.last?.received == 108_960)
    }

    @Test func gatedNeedsToken() throws {
        let hub = try FakeHub()
        let store = ModelStore(cacheDirectory: hub.cache.path)
        let name = try #require(HubModelName("hf.co/gated/tiny:Q8_0"))
        #expect(throws: HubError.unauthorized(repository: "gated/tiny", hadToken: false)) {
            try store.pull(name, client: HubClient(endpoint: hub.endpoint, token: ""))
        }
        #expect(throws: HubError.unauthorized(repository: "gated/tiny", hadToken: true)) {
            try store.pull(name, client: HubClient(endpoint: hub.endpoint, token: "wrong"))
        }
        let path = try store.pull(name, client: HubClient(endpoint: hub.endpoint, token: "secret"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == hub.bytes("gated/tiny/tiny-Q8_0.gguf"))
        #expect(try hub.requests().last?.auth == "Bearer secret")
    }

    @Test func missingThingsSayWhat() throws {
        let hub = try FakeHub()
        let store = ModelStore(cacheDirectory: hub.cache.path)
        let client = HubClient(endpoint: hub.endpoint, token: "")
        #expect(throws: HubError.notFound("test/nope@main")) { try store.pull(HubModelName("hf.co/test/nope")!, client: client) }
        #expect(throws: HubError.notFound("test/tiny/nope.gguf@main")) { try store.pull(HubModelName("test/tiny/nope.gguf")!, client: client) }
        #expect(throws: HubError.noMatchingFile(repository: "test/tiny", quantization: "Q2_K", available: ["Q4_K_M", "Q8_0"])) {
            try store.pull(HubModelName("hf.co/test/tiny:Q2_K")!, client: client)
        }
        // Nothing is listed in the cache after failures.
        #expect(store.localModels().isEmpty)
    }

    @Test func checksumMismatchRemovesDownload() throws {
        let hub = try FakeHub(extra: ["--bad-sha", "tiny-Q8_0.gguf"])
        let store = ModelStore(cacheDirectory: hub.cache.path)
        #expect(throws: HubError.self) { try store.pull(HubModelName("hf.co/test/tiny:Q8_0")!, client: HubClient(endpoint: hub.endpoint, token: "")) }
        let dir = hub.cache.appendingPathComponent("hub/test/tiny").path
        let left = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        #expect(left.allSatisfy { $0.hasSuffix(".lock") }, "\(left)")
    }

    /// Two pulls of one file at once: the lock makes the second wait, then find the file.
    @Test func concurrentPullsShareOneDownload() async throws {
        let hub = try FakeHub()
        let cache = hub.cache.path, endpoint = hub.endpoint
        let paths = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0 ..< 2 {
                group.addTask {
                    try ModelStore(cacheDirectory: cache).pull(HubModelName("test/tiny/tiny-Q8_0.gguf")!, client: HubClient(endpoint: endpoint, token: ""))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(paths).count == 1)
        #expect(try hub.requests().filter { $0.path.hasPrefix("/cdn/") }.count == 1)
    }

    /// Three shards written by the `gguf` package's split writer are merged into one GGUF that
    /// holds the original's metadata and tensors.
    @Test func splitModelMergedIntoOne() throws {
        let hub = try FakeHub()
        let store = ModelStore(cacheDirectory: hub.cache.path)
        let path = try store.pull(#require(HubModelName("hf.co/test/split:Q8_0")), client: HubClient(endpoint: hub.endpoint, token: ""))
        let merged = try GGUFFile(path: path)
        let original = try GGUFFile(path: FakeHub.tiny.appendingPathComponent("llama-q8_0.gguf").path)
        #expect(merged.metadata.keys.filter { !$0.hasPrefix("split.") }.sorted() == original.metadata.keys.sorted())
        #expect(!merged.metadata.keys.contains { $0.hasPrefix("split.") })
        for key in original.metadata.keys { #expect(merged.metadata[key] == original.metadata[key], "\(key)") }
        #expect(merged.tensors.map(\.name).sorted() == original.tensors.map(\.name).sorted())
        for t in original.tensors {
            let m = try #require(merged.tensor(named: t.name))
            #expect(m.dimensions == t.dimensions && m.type == t.type)
            let a = Data(bytes: original.data(of: t), count: t.byteCount)
            let b = Data(bytes: merged.data(of: m), count: m.byteCount)
            #expect(a == b, "\(t.name)")
        }
        // The shards are gone; one file is listed.
        #expect(!FileManager.default.fileExists(atPath: hub.cache.appendingPathComponent("hub/test/split/.shards/tiny-Q8_0-00001-of-00003.gguf").path))
        #expect(store.localModels().map(\.name) == ["hf.co/test/split:Q8_0"])
    }
}

final class Reports: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [DownloadProgress] = []
    func add(_ p: DownloadProgress) { lock.withLock { items.append(p) } }
    var last: DownloadProgress? { lock.withLock { items.last } }
}
