/// Parses the header, metadata and tensor directory of a GGUF v2/v3 image held in memory.
///
/// Hostile input is expected: every count is checked against the bytes that remain before
/// anything is allocated, nesting is bounded, and tensor extents are checked against the file.
struct GGUFParser {
    static let magic: UInt32 = 0x4655_4747 // "GGUF" little-endian
    static let maxArrayDepth = 8
    static let maxDimensions: UInt32 = 4

    struct Result {
        var version: UInt32
        var metadata: GGUFMetadata
        var tensors: [GGUFTensorInfo]
        var alignment: Int
        var dataOffset: Int
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> Result {
        var r = ByteReader(bytes)
        let magic = try r.read(UInt32.self, "magic")
        guard magic == Self.magic else { throw GGUFError.notGGUF(magic: magic) }
        let version = try r.read(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw GGUFError.unsupportedVersion(version) }
        let tensorCount = try r.read(UInt64.self, "tensor count")
        let kvCount = try r.read(UInt64.self, "metadata count")
        // A key/value pair takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor entry at least 8+4+8+4+8.
        guard kvCount <= UInt64(r.remaining / 13) else { throw GGUFError.implausibleCount(what: "metadata count", count: kvCount) }
        guard tensorCount <= UInt64(r.remaining / 32) else { throw GGUFError.implausibleCount(what: "tensor count", count: tensorCount) }

        var metadata = GGUFMetadata()
        for i in 0 ..< Int(kvCount) {
            let key = try r.readString("metadata key #\(i)")
            let type = try r.read(UInt32.self, "type of '\(key)'")
            let value = try readValue(&r, type: type, key: key, depth: 0)
            try metadata.insert(key, value)
        }

        var alignment = 32
        if let a = metadata["general.alignment"] {
            guard let v = a.intValue, v > 0, v & (v - 1) == 0, v <= 1 << 20 else {
                throw GGUFError.badAlignment(UInt64(a.intValue ?? 0))
            }
            alignment = v
        }

        var raw: [(String, [Int], GGMLType, UInt64)] = []
        raw.reserveCapacity(Int(tensorCount))
        var seen = Set<String>()
        for i in 0 ..< Int(tensorCount) {
            let name = try r.readString("name of tensor #\(i)")
            let nDims = try r.read(UInt32.self, "dimension count of '\(name)'")
            guard nDims <= maxDimensions else { throw GGUFError.tooManyDimensions(tensor: name, dims: nDims) }
            var dims: [UInt64] = []
            for _ in 0 ..< nDims { dims.append(try r.read(UInt64.self, "dimensions of '\(name)'")) }
            let type = GGMLType(rawValue: try r.read(UInt32.self, "type of '\(name)'"))
            let offset = try r.read(UInt64.self, "offset of '\(name)'")
            guard seen.insert(name).inserted else { throw GGUFError.duplicateTensor(name) }
            guard type.isKnown else { throw GGUFError.unknownTensorType(tensor: name, type: type.rawValue) }
            // Each dimension and the product must stay far below Int.max.
            var count: UInt64 = 1
            for d in dims {
                guard d > 0, d < 1 << 40 else { throw GGUFError.badDimensions(tensor: name, dims: dims) }
                let (p, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, p < 1 << 48 else { throw GGUFError.badDimensions(tensor: name, dims: dims) }
                count = p
            }
            let cols = dims.first ?? 1
            guard cols % UInt64(type.blockElements) == 0 else {
                throw GGUFError.rowNotBlockAligned(tensor: name, type: type.name, cols: cols, block: type.blockElements)
            }
            raw.append((name, dims.map { Int($0) }, type, offset))
        }

        let dataOffset = (r.offset + alignment - 1) / alignment * alignment
        let fileSize = UInt64(bytes.count)
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(raw.count)
        for (name, dims, type, offset) in raw {
            guard offset % UInt64(alignment) == 0 else { throw GGUFError.misalignedTensor(tensor: name, offset: offset) }
            let elements = dims.reduce(1, *)
            let byteCount = elements / type.blockElements * type.blockBytes
            let (end, o1) = UInt64(dataOffset).addingReportingOverflow(offset)
            let (end2, o2) = end.addingReportingOverflow(UInt64(byteCount))
            guard !o1, !o2, end2 <= fileSize else {
                throw GGUFError.tensorOutOfBounds(tensor: name, end: o1 || o2 ? UInt64.max : end2, fileSize: fileSize)
            }
            tensors.append(GGUFTensorInfo(name: name, dimensions: dims, type: type, offset: Int(offset), byteCount: byteCount))
        }
        return Result(version: version, metadata: metadata, tensors: tensors, alignment: alignment, dataOffset: dataOffset)
    }

    /// Smallest encoded size of one value of a type, used to bound array counts.
    private static func minSize(_ type: UInt32) -> Int {
        switch type {
        case 0, 1, 7: return 1
        case 2, 3: return 2
        case 4, 5, 6: return 4
        case 8, 10, 11, 12: return 8
        case 9: return 12
        default: return 1
        }
    }

    private static func readValue(_ r: inout ByteReader, type: UInt32, key: String, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try r.read(UInt8.self, "value of '\(key)'"))
        case 1: return .int8(try r.read(Int8.self, "value of '\(key)'"))
        case 2: return .uint16(try r.read(UInt16.self, "value of '\(key)'"))
        case 3: return .int16(try r.read(Int16.self, "value of '\(key)'"))
        case 4: return .uint32(try r.read(UInt32.self, "value of '\(key)'"))
        case 5: return .int32(try r.read(Int32.self, "value of '\(key)'"))
        case 6: return .float32(try r.readFloat("value of '\(key)'"))
        case 7: return .bool(try r.read(UInt8.self, "value of '\(key)'") != 0)
        case 8: return .string(try r.readString("value of '\(key)'"))
        case 9:
            guard depth < maxArrayDepth else { throw GGUFError.implausibleCount(what: "array nesting of '\(key)'", count: UInt64(depth)) }
            let elementType = try r.read(UInt32.self, "array type of '\(key)'")
            guard elementType <= 12 else { throw GGUFError.unknownValueType(key: key, type: elementType) }
            let count = try r.read(UInt64.self, "array length of '\(key)'")
            guard count <= UInt64(r.remaining / minSize(elementType)) else {
                throw GGUFError.implausibleCount(what: "array length of '\(key)'", count: count)
            }
            var items: [GGUFValue] = []
            items.reserveCapacity(Int(count))
            for _ in 0 ..< Int(count) { items.append(try readValue(&r, type: elementType, key: key, depth: depth + 1)) }
            return .array(items)
        case 10: return .uint64(try r.read(UInt64.self, "value of '\(key)'"))
        case 11: return .int64(try r.read(Int64.self, "value of '\(key)'"))
        case 12: return .float64(try r.readDouble("value of '\(key)'"))
        default: throw GGUFError.unknownValueType(key: key, type: type)
        }
    }
}
