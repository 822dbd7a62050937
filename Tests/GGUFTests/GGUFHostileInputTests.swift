import Foundation
import Testing
import TestSupport
import GGUF
import Pagewise

/// Truncated, byte-flipped and crafted files must give a GGUFError, never a crash or a huge allocation.
struct GGUFHostileInputTests {
    func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: GGUFReaderTests.fixture(name)))
    }

    @Test func everyTruncationOfASmallFileIsAnError() throws {
        let full = try bytes("all-types.gguf")
        _ = try GGUFFile(bytes: full)
        for n in 0 ..< full.count {
            #expect(throws: GGUFError.self, "prefix of \(n) bytes") { try GGUFFile(bytes: Array(full[..<n])) }
        }
    }

    @Test func everyByteFlipOfASmallFileIsHandled() throws {
        let full = try bytes("all-types.gguf")
        let file = try GGUFFile(bytes: full)
        for i in 0 ..< file.dataOffset {
            for mask: UInt8 in [0xFF, 0x80, 0x01] {
                var copy = full
                copy[i] ^= mask
                do { _ = try GGUFFile(bytes: copy) } catch is GGUFError {} catch { Issue.record("unexpected error \(error)") }
            }
        }
    }

    @Test func truncatedAndFlippedRealModelHeader() throws {
        let path = try TestModels.path("smollm2-135m-instruct")
        let handle = try #require(FileHandle(forReadingAtPath: path))
        let header = [UInt8](handle.readData(ofLength: 1_800_000))
        try handle.close()
        // Any prefix shorter than the tensor data fails cleanly.
        var cut = 0
        while cut < header.count {
            #expect(throws: GGUFError.self) { try GGUFFile(bytes: Array(header[..<cut])) }
            cut = cut < 64 ? cut + 1 : cut * 3 / 2 + 7
        }
        // Random byte changes in the header: either still parses or throws a GGUFError.
        var rng = SamplingRNG(seed: 42)
        for _ in 0 ..< 200 {
            var copy = header
            let pos = Int(rng.next() % 1_785_000)
            copy[pos] = UInt8(truncatingIfNeeded: rng.next())
            do { _ = try GGUFFile(bytes: copy) } catch is GGUFError {} catch { Issue.record("unexpected error \(error)") }
        }
    }

    @Test func truncatedRealFileOnDisk() throws {
        let path = try TestModels.path("smollm2-135m-instruct")
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("pagewise-trunc-\(getpid()).gguf")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count - 1000).write(to: tmp)
        #expect(throws: GGUFError.self) { try GGUFFile(path: tmp.path) }
        #expect(throws: GGUFError.self) { try GGUFFile(path: "/nonexistent/model.gguf") }
    }

    @Test func craftedHeaders() throws {
        func header(version: UInt32, tensors: UInt64, kvs: UInt64) -> [UInt8] {
            var b: [UInt8] = Array("GGUF".utf8)
            withUnsafeBytes(of: version.littleEndian) { b += $0 }
            withUnsafeBytes(of: tensors.littleEndian) { b += $0 }
            withUnsafeBytes(of: kvs.littleEndian) { b += $0 }
            return b + [UInt8](repeating: 0, count: 64)
        }
        #expect(throws: GGUFError.unsupportedVersion(1)) { try GGUFFile(bytes: header(version: 1, tensors: 0, kvs: 0)) }
        #expect(throws: GGUFError.notGGUF(magic: 0x4655_4746)) {
            var b = header(version: 3, tensors: 0, kvs: 0); b[0] = 0x46; return try GGUFFile(bytes: b)
        }
        #expect(throws: GGUFError.implausibleCount(what: "tensor count", count: 1 << 60)) {
            try GGUFFile(bytes: header(version: 3, tensors: 1 << 60, kvs: 0))
        }
        #expect(throws: GGUFError.implausibleCount(what: "metadata count", count: UInt64.max)) {
            try GGUFFile(bytes: header(version: 3, tensors: 0, kvs: .max))
        }
        // A string whose length claims more bytes than exist.
        var b = Array(header(version: 3, tensors: 0, kvs: 1).prefix(24))
        withUnsafeBytes(of: UInt64(1 << 62).littleEndian) { b += $0 }
        b += [UInt8](repeating: 0x41, count: 40)
        #expect(throws: GGUFError.self) { try GGUFFile(bytes: b) }
        // An unknown value type.
        var c = Array(header(version: 3, tensors: 0, kvs: 1).prefix(24))
        withUnsafeBytes(of: UInt64(1).littleEndian) { c += $0 }
        c += [0x6B]
        withUnsafeBytes(of: UInt32(99).littleEndian) { c += $0 }
        c += [UInt8](repeating: 0, count: 16)
        #expect(throws: GGUFError.unknownValueType(key: "k", type: 99)) { try GGUFFile(bytes: c) }
    }
}
