/// A set of bytes, 256 bits.
struct ByteSet: Hashable, Sendable {
    var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0

    init() {}

    init(_ b: UInt8) { insert(b) }

    init(_ r: ClosedRange<UInt8>) { insert(r) }

    static let all: ByteSet = {
        var s = ByteSet()
        s.insert(0...255)
        return s
    }()

    @inline(__always)
    func contains(_ b: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(b & 63)
        switch b >> 6 {
        case 0: return w0 & bit != 0
        case 1: return w1 & bit != 0
        case 2: return w2 & bit != 0
        default: return w3 & bit != 0
        }
    }

    mutating func insert(_ b: UInt8) {
        let bit = UInt64(1) << UInt64(b & 63)
        switch b >> 6 {
        case 0: w0 |= bit
        case 1: w1 |= bit
        case 2: w2 |= bit
        default: w3 |= bit
        }
    }

    mutating func insert(_ r: ClosedRange<UInt8>) {
        for b in r { insert(b) }
    }

    mutating func formUnion(_ o: ByteSet) {
        w0 |= o.w0; w1 |= o.w1; w2 |= o.w2; w3 |= o.w3
    }

    var isEmpty: Bool { (w0 | w1 | w2 | w3) == 0 }

    var count: Int { w0.nonzeroBitCount + w1.nonzeroBitCount + w2.nonzeroBitCount + w3.nonzeroBitCount }

    /// The only member, when there is exactly one.
    var single: UInt8? {
        guard count == 1 else { return nil }
        for b in 0...255 where contains(UInt8(b)) { return UInt8(b) }
        return nil
    }
}
