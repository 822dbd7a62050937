/// The front ends' common output: a regular-expression-like tree over bytes with named rule
/// references, lowered by ``GrammarBuilder`` into the flat grammar the matcher runs.
indirect enum GExpr: Hashable, Sendable {
    case bytes(ByteSet)
    case seq([GExpr])
    case alt([GExpr])
    /// `max == nil`: unbounded.
    case rep(GExpr, min: Int, max: Int?)
    case ref(String)

    static let empty = GExpr.seq([])

    static func literal<S: Sequence>(_ bytes: S) -> GExpr where S.Element == UInt8 {
        let parts = bytes.map { GExpr.bytes(ByteSet($0)) }
        return parts.count == 1 ? parts[0] : .seq(parts)
    }

    static func text(_ s: String) -> GExpr { literal(Array(s.utf8)) }

    static func optional(_ e: GExpr) -> GExpr { .rep(e, min: 0, max: 1) }

    /// A sequence, flattening nested sequences.
    static func sequence(_ parts: [GExpr]) -> GExpr {
        var out: [GExpr] = []
        for p in parts {
            if case .seq(let inner) = p { out.append(contentsOf: inner) } else { out.append(p) }
        }
        return out.count == 1 ? out[0] : .seq(out)
    }

    /// An alternation, flattening nested alternations.
    static func choice(_ parts: [GExpr]) -> GExpr {
        var out: [GExpr] = []
        for p in parts {
            if case .alt(let inner) = p { out.append(contentsOf: inner) } else { out.append(p) }
        }
        return out.count == 1 ? out[0] : .alt(out)
    }
}
