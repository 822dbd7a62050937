import Foundation
import Testing
import TestSupport
import GGUF

/// Expectations come from the `gguf` Python package (scripts/gen_gguf_fixtures.py), not from this reader.
struct GGUFReaderTests {
    static func fixture(_ name: String) throws -> URL {
        try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"))
    }

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: fixture(name))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func flatten(_ v: GGUFValue) -> [GGUFValue] {
        if case let .array(a) = v { return a.flatMap(flatten) }
        return [v]
    }

    static func matches(_ v: GGUFValue, _ expected: Any) -> Bool {
        switch v {
        case let .string(s): return s == expected as? String
        case let .bool(b): return b == (expected as? Bool)
        case let .float32(f): return (expected as? NSNumber).map { Float(truncating: $0) == f } ?? false
        case let .float64(d): return (expected as? NSNumber).map { $0.doubleValue == d } ?? false
        case let .uint64(u): return (expected as? NSNumber).map { $0.uint64Value == u } ?? false
        case .array:
            guard let list = expected as? [Any] else { return false }
            let flat = flatten(v)
            return flat.count == list.count && zip(flat, list).allSatisfy { matches($0, $1) }
        default:
            return (expected as? NSNumber).map { $0.int64Value == Int64(v.intValue ?? Int.min) } ?? false
        }
    }

    @Test func readsEveryValueTypeAsGGUFPyDoes() throws {
        let file = try GGUFFile(path: Self.fixture("all-types.gguf").path)
        let expected = try Self.json("all-types.expected.json")
        #expect(file.version == 3)
        #expect(file.alignment == 64)
        #expect(file.dataOffset == expected["data_offset"] as? Int)
        let meta = try #require(expected["metadata"] as? [String: Any])
        #expect(Set(file.metadata.keys) == Set(meta.keys))
        for (key, value) in meta {
            let v = try #require(file.metadata[key], "missing \(key)")
            #expect(Self.matches(v, value), "\(key): \(v) vs \(value)")
        }
        // Nesting is kept (gguf-py flattens it when reading contents()).
        #expect(file.metadata["t.nested"] == .array([.array([.int32(1), .int32(2)]), .array([.int32(3)]), .array([.int32(4), .int32(5), .int32(6)])]))
        #expect(file.metadata["t.u8"] == .uint8(200))
        #expect(file.metadata["t.i16"] == .int16(-30000))
        let tensors = try #require(expected["tensors"] as? [[String: Any]])
        #expect(file.tensors.count == tensors.count)
        for (t, e) in zip(file.tensors, tensors) {
            #expect(t.name == e["name"] as? String)
            #expect(Int(t.type.rawValue) == e["type"] as? Int)
            #expect(t.dimensions == e["dims"] as? [Int])
            #expect(t.offset == e["offset"] as? Int)
            #expect(t.byteCount == e["bytes"] as? Int)
        }
        // Tensor data is readable in place.
        let b = try #require(file.tensor(named: "b"))
        #expect(b.type == .f16 && b.elementCount == 7)
    }

    @Test(arguments: ["smollm2-135m-instruct", "gemma3-270m"])
    func realModelDirectoryMatchesGGUFPy(model: String) throws {
        let path = try TestModels.path(model)
        let file = try GGUFFile(path: path)
        let expected = try Self.json("\(model).directory.json")
        #expect(Int(file.version) == expected["version"] as? Int)
        #expect(file.dataOffset == expected["data_offset"] as? Int)
        let meta = try #require(expected["metadata"] as? [String: Any])
        #expect(Set(file.metadata.keys) == Set(meta.keys))
        for (key, value) in meta {
            let v = try #require(file.metadata[key])
            if let summary = value as? [String: Any], let n = summary["array_len"] as? Int {
                #expect(v.arrayValue?.count == n, "\(key)")
                let first = try #require(summary["first"] as? [Any])
                #expect(zip(v.arrayValue ?? [], first).allSatisfy { Self.matches($0, $1) }, "\(key)")
            } else {
                #expect(Self.matches(v, value), "\(key): \(v) vs \(value)")
            }
        }
        let tensors = try #require(expected["tensors"] as? [[String: Any]])
        #expect(file.tensors.count == tensors.count)
        for (t, e) in zip(file.tensors, tensors) {
            #expect(t.name == e["name"] as? String)
            #expect(Int(t.type.rawValue) == e["type"] as? Int)
            #expect(t.dimensions == e["dims"] as? [Int])
            #expect(t.offset == e["offset"] as? Int)
            #expect(t.byteCount == e["bytes"] as? Int)
        }
    }
}
