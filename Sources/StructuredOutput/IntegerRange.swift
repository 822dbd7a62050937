/// Grammar expressions for the decimal integers in a range (JSON Schema `minimum`/`maximum` on
/// integers), built digit position by digit position as the classic range-to-regex method does.
enum IntegerRange {
    private static func digitSet(_ lo: UInt8, _ hi: UInt8) -> GExpr {
        .bytes(ByteSet((0x30 + lo)...(0x30 + hi)))
    }

    /// The integers in `lo...hi` (either side open when nil), without leading zeros and without `-0`.
    static func expr(min lo: Int64?, max hi: Int64?) throws -> GExpr {
        if let lo, let hi, lo > hi {
            throw StructuredOutputError(.unsatisfiable, "integer range [\(lo), \(hi)] is empty")
        }
        var alts: [GExpr] = []
        // Non-negative part.
        if hi.map({ $0 >= 0 }) ?? true {
            alts.append(nonNegative(from: UInt64(max(lo ?? 0, 0)), to: hi.map { UInt64($0) }))
        }
        // Negative part: -n for n in [max(1, -hi), -lo].
        if lo.map({ $0 < 0 }) ?? true {
            let nLo: UInt64 = hi.map { $0 < 0 ? $0.magnitude : 1 } ?? 1
            let nHi: UInt64? = lo.map { $0.magnitude }
            alts.append(.sequence([.text("-"), nonNegative(from: nLo, to: nHi)]))
        }
        return .choice(alts)
    }

    /// Decimal strings of `a...b` (`b == nil`: unbounded).
    static func nonNegative(from a: UInt64, to b: UInt64?) -> GExpr {
        let la = String(a).count
        var alts: [GExpr] = []
        if let b {
            let lb = String(b).count
            for len in la...lb {
                let lo = max(a, len == 1 ? 0 : pow10(len - 1))
                let hi = min(b, pow10(len) &- 1)
                if lo <= hi { alts.append(sameLength(Array(String(lo).utf8).map { $0 - 0x30 }, Array(String(hi).utf8).map { $0 - 0x30 })) }
            }
        } else {
            let top = la >= 20 ? UInt64.max : pow10(la) - 1
            alts.append(sameLength(Array(String(a).utf8).map { $0 - 0x30 }, Array(String(top).utf8).map { $0 - 0x30 }))
            // Any number with more digits.
            alts.append(.sequence([digitSet(1, 9), .rep(digitSet(0, 9), min: la, max: nil)]))
        }
        return .choice(alts)
    }

    private static func pow10(_ n: Int) -> UInt64 {
        var v: UInt64 = 1
        for _ in 0..<n { v = v &* 10 }
        return v
    }

    /// Digit strings between `l` and `h` of the same length (leading zeros allowed inside).
    private static func sameLength(_ l: [UInt8], _ h: [UInt8]) -> GExpr {
        let n = l.count
        if n == 0 { return .empty }
        if l == h { return .literal(l.map { $0 + 0x30 }) }
        if l[0] == h[0] {
            return .sequence([.literal([l[0] + 0x30]), sameLength(Array(l.dropFirst()), Array(h.dropFirst()))])
        }
        let restL = Array(l.dropFirst()), restH = Array(h.dropFirst())
        let lowAllZero = restL.allSatisfy { $0 == 0 }
        let highAllNine = restH.allSatisfy { $0 == 9 }
        var alts: [GExpr] = []
        var midLo = l[0] + 1, midHi = h[0] - 1
        if lowAllZero { midLo = l[0] } else {
            alts.append(.sequence([.literal([l[0] + 0x30]), sameLength(restL, [UInt8](repeating: 9, count: n - 1))]))
        }
        if highAllNine { midHi = h[0] }
        if midLo <= midHi {
            alts.append(.sequence([digitSet(midLo, midHi), .rep(digitSet(0, 9), min: n - 1, max: n - 1)]))
        }
        if !highAllNine {
            alts.append(.sequence([.literal([h[0] + 0x30]), sameLength([UInt8](repeating: 0, count: n - 1), restH)]))
        }
        return .choice(alts)
    }
}
