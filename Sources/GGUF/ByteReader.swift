/// Bounds-checked little-endian reader over a byte range. Every read that would pass the end throws.
struct ByteReader {
    let base: UnsafeRawBufferPointer
    var offset: Int = 0

    init(_ base: UnsafeRawBufferPointer) { self.base = base }

    var remaining: Int { base.count - offset }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw GGUFError.truncated(what: what(), offset: offset) }
        let v = base.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: v)
    }

    mutating func readFloat(_ what: @autoclosure () -> String) throws -> Float {
        Float(bitPattern: try read(UInt32.self, what()))
    }

    mutating func readDouble(_ what: @autoclosure () -> String) throws -> Double {
        Double(bitPattern: try read(UInt64.self, what()))
    }

    mutating func readString(_ what: @autoclosure () -> String) throws -> String {
        let len = try read(UInt64.self, what())
        guard len <= UInt64(remaining) else { throw GGUFError.truncated(what: what(), offset: offset) }
        let n = Int(len)
        let bytes = UnsafeRawBufferPointer(rebasing: base[offset ..< offset + n])
        offset += n
        // Lenient decoding: a stray invalid byte becomes U+FFFD rather than failing the whole file.
        return String(decoding: bytes, as: UTF8.self)
    }
}
