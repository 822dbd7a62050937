import Foundation

/// Why split GGUF shards could not be joined.
public struct GGUFSplitError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What is wrong and what to do.
    public let message: String
    /// Makes an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Models split by llama.cpp's `gguf-split` (or `convert_hf_to_gguf --split-max-tensors`):
/// files named `STEM-00001-of-0000N.gguf`, the first holding the metadata and every shard a part
/// of the tensor directory with its data, each with `split.no`, `split.count` and
/// `split.tensors.count`. `merge` joins them into one ordinary GGUF file.
public enum GGUFSplit {
    /// The stem, 1-based shard number and shard count of a shard's file name, or nil when the
    /// name is not one of a split model.
    public static func shard(ofFileName name: String) -> (stem: String, number: Int, count: Int)? {
        guard name.hasSuffix(".gguf") else { return nil }
        let base = name.dropLast(5)
        // STEM-NNNNN-of-NNNNN
        let parts = base.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[parts.count - 2] == "of",
              let number = Int(parts[parts.count - 3]), let count = Int(parts[parts.count - 1]),
              parts[parts.count - 3].count == 5, parts[parts.count - 1].count == 5,
              count >= 1, (1 ... count).contains(number) else { return nil }
        return (parts.dropLast(3).joined(separator: "-"), number, count)
    }

    /// The file names of every shard of the split model `stem` with `count` shards.
    public static func shardNames(stem: String, count: Int) -> [String] {
        (1 ... max(1, count)).map { "\(stem)-\(String(format: "%05d", $0))-of-\(String(format: "%05d", count)).gguf" }
    }

    /// Writes one GGUF file at `destination` holding the metadata of the first shard (less the
    /// `split.*` keys) and every shard's tensors, in order, with their data re-laid out.
    public static func merge(shards: [String], into destination: String) throws {
        guard let firstPath = shards.first else { throw GGUFSplitError("no shards to merge") }
        let files = try shards.map { try GGUFFile(path: $0) }
        let first = files[0]
        let expectedCount = first.metadata.int("split.count") ?? 1
        guard expectedCount == shards.count else {
            throw GGUFSplitError("\(firstPath) says the model has \(expectedCount) shards, \(shards.count) were given; download every shard")
        }
        for (i, f) in files.enumerated() where (f.metadata.int("split.no") ?? 0) != i {
            throw GGUFSplitError("\(shards[i]) is shard \(f.metadata.int("split.no") ?? 0) of the model, expected \(i); pass the shards in order")
        }
        let total = files.reduce(0) { $0 + $1.tensors.count }
        if let declared = first.metadata.int("split.tensors.count"), declared != total {
            throw GGUFSplitError("the shards hold \(total) tensors, the first declares \(declared); a shard is missing or damaged")
        }

        // The first shard's metadata, copied byte for byte without the split keys.
        let header = try readPrefix(firstPath, count: first.dataOffset)
        let kept = try header.withUnsafeBytes { try keptMetadata(UnsafeRawBufferPointer($0)) }

        let alignment = first.alignment
        var out = Data()
        func append<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        append(UInt32(0x4655_4747))
        append(first.version)
        append(UInt64(total))
        append(UInt64(kept.count))
        for kv in kept { out.append(kv) }
        var offset = 0
        for f in files {
            for t in f.tensors {
                let name = Data(t.name.utf8)
                append(UInt64(name.count))
                out.append(name)
                append(UInt32(t.dimensions.count))
                for d in t.dimensions { append(UInt64(d)) }
                append(t.type.rawValue)
                append(UInt64(offset))
                offset += (t.byteCount + alignment - 1) / alignment * alignment
            }
        }
        out.append(Data(count: (alignment - out.count % alignment) % alignment))

        guard FileManager.default.createFile(atPath: destination, contents: nil),
              let handle = FileHandle(forWritingAtPath: destination) else {
            throw GGUFSplitError("cannot create \(destination); check the directory exists and is writable")
        }
        defer { try? handle.close() }
        try handle.write(contentsOf: out)
        for f in files {
            for t in f.tensors {
                let p = f.data(of: t)
                try handle.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: p), count: t.byteCount, deallocator: .none))
                let pad = (alignment - t.byteCount % alignment) % alignment
                if pad > 0 { try handle.write(contentsOf: Data(count: pad)) }
            }
        }
        try handle.synchronize()
    }

    private static func readPrefix(_ path: String, count: Int) throws -> Data {
        guard let h = FileHandle(forReadingAtPath: path) else { throw GGUFError.cannotOpen(path: path, reason: "cannot read") }
        defer { try? h.close() }
        return try h.read(upToCount: count) ?? Data()
    }

    /// The raw bytes of each metadata pair whose key does not start with `split.`.
    private static func keptMetadata(_ bytes: UnsafeRawBufferPointer) throws -> [Data] {
        var r = ByteReader(bytes)
        r.offset = 16 // magic, version, tensor count
        let kvCount = try r.read(UInt64.self, "metadata count")
        var kept: [Data] = []
        for i in 0 ..< kvCount {
            let start = r.offset
            let key = try r.readString("metadata key #\(i)")
            let type = try r.read(UInt32.self, "type of '\(key)'")
            try skipValue(&r, type: type, key: key, depth: 0)
            if !key.hasPrefix("split.") { kept.append(Data(bytes[start ..< r.offset])) }
        }
        return kept
    }

    private static func skipValue(_ r: inout ByteReader, type: UInt32, key: String, depth: Int) throws {
        switch type {
        case 0, 1, 7: r.offset += 1
        case 2, 3: r.offset += 2
        case 4, 5, 6: r.offset += 4
        case 10, 11, 12: r.offset += 8
        case 8: _ = try r.readString("value of '\(key)'")
        case 9:
            guard depth < 8 else { throw GGUFError.unknownValueType(key: key, type: type) }
            let sub = try r.read(UInt32.self, "array type of '\(key)'")
            let n = try r.read(UInt64.self, "array length of '\(key)'")
            guard n <= UInt64(r.remaining) else { throw GGUFError.implausibleCount(what: "array length of '\(key)'", count: n) }
            for _ in 0 ..< n { try skipValue(&r, type: sub, key: key, depth: depth + 1) }
        default: throw GGUFError.unknownValueType(key: key, type: type)
        }
        guard r.remaining >= 0 else { throw GGUFError.truncated(what: "value of '\(key)'", offset: r.offset) }
    }
}
