/// Grammar expressions for JSON numbers between whole-number bounds (JSON Schema `minimum`,
/// `maximum`, `exclusiveMinimum`, `exclusiveMaximum` on `number`). Bounded numbers are written
/// without an exponent (a subset of the valid texts, so every output validates).
enum NumberRange {
    /// What the fraction may be: any (or none), none or all zeros, or one with a non-zero digit.
    private enum Fraction { case any, zeroOrNone, nonZero }

    /// One piece: integer part in `lo...hi` (`hi == nil`: unbounded) and a fraction kind.
    private struct Piece {
        var lo: UInt64
        var hi: UInt64?
        var fraction: Fraction
    }

    private static func fractionExpr(_ f: Fraction) -> GExpr {
        let digit = GExpr.bytes(ByteSet(0x30...0x39))
        switch f {
        case .any: return .optional(.sequence([.text("."), .rep(digit, min: 1, max: nil)]))
        case .zeroOrNone: return .optional(.sequence([.text("."), .rep(.text("0"), min: 1, max: nil)]))
        case .nonZero:
            return .sequence([.text("."), .rep(.text("0"), min: 0, max: nil), .bytes(ByteSet(0x31...0x39)),
                              .rep(digit, min: 0, max: nil)])
        }
    }

    /// Magnitudes `m` with `m ≥ a` (or `m > a` when `exclusive`).
    private static func atLeast(_ a: UInt64, exclusive: Bool) -> [Piece] {
        exclusive ? [Piece(lo: a &+ 1, hi: nil, fraction: .any), Piece(lo: a, hi: a, fraction: .nonZero)]
            : [Piece(lo: a, hi: nil, fraction: .any)]
    }

    /// Magnitudes `m` with `m ≤ b` (or `m < b` when `exclusive`).
    private static func atMost(_ b: UInt64, exclusive: Bool) -> [Piece] {
        var out: [Piece] = []
        if b > 0 { out.append(Piece(lo: 0, hi: b - 1, fraction: .any)) }
        if !exclusive { out.append(Piece(lo: b, hi: b, fraction: .zeroOrNone)) }
        return out
    }

    private static func intersect(_ x: [Piece], _ y: [Piece]) -> [Piece] {
        var out: [Piece] = []
        for a in x {
            for b in y {
                let lo = max(a.lo, b.lo)
                let hi: UInt64? = switch (a.hi, b.hi) {
                case (nil, nil): nil
                case (let p?, nil): p
                case (nil, let q?): q
                case (let p?, let q?): min(p, q)
                }
                if let hi, hi < lo { continue }
                let f: Fraction?
                switch (a.fraction, b.fraction) {
                case (.any, let g), (let g, .any): f = g
                case (.zeroOrNone, .zeroOrNone): f = .zeroOrNone
                case (.nonZero, .nonZero): f = .nonZero
                default: f = nil
                }
                if let f { out.append(Piece(lo: lo, hi: hi, fraction: f)) }
            }
        }
        return out
    }

    private static func expr(_ pieces: [Piece]) -> GExpr {
        .choice(pieces.map { .sequence([IntegerRange.nonNegative(from: $0.lo, to: $0.hi), fractionExpr($0.fraction)]) })
    }

    /// Numbers `v` with `lo ≤ v ≤ hi` (`<` where exclusive; nil: open), as `-?int(.frac)?`.
    static func expr(min lo: Int64?, exclusiveMin: Bool, max hi: Int64?, exclusiveMax: Bool) throws -> GExpr {
        var alts: [GExpr] = []
        // v ≥ 0: magnitude v itself.
        if hi.map({ $0 > 0 || ($0 == 0 && !exclusiveMax) }) ?? true {
            let lower = lo.map { $0 >= 0 ? atLeast(UInt64($0), exclusive: exclusiveMin) : atLeast(0, exclusive: false) }
                ?? atLeast(0, exclusive: false)
            let pieces = hi.map { intersect(lower, atMost(UInt64($0), exclusive: exclusiveMax)) } ?? lower
            if !pieces.isEmpty { alts.append(expr(pieces)) }
        }
        // v < 0: "-" then magnitude m > 0.
        if lo.map({ $0 < 0 }) ?? true {
            var pieces = atLeast(0, exclusive: true)
            if let lo { pieces = intersect(pieces, atMost(lo.magnitude, exclusive: exclusiveMin)) }
            if let hi, hi < 0 { pieces = intersect(pieces, atLeast(hi.magnitude, exclusive: exclusiveMax)) }
            if !pieces.isEmpty { alts.append(.sequence([.text("-"), expr(pieces)])) }
        }
        if alts.isEmpty { throw StructuredOutputError(.unsatisfiable, "number range is empty") }
        return .choice(alts)
    }
}
