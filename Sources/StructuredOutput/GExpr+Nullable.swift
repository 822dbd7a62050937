extension GExpr {
    /// Whether the expression matches the empty string (rule references count as not nullable).
    var isNullable: Bool {
        switch self {
        case .bytes: return false
        case .seq(let parts): return parts.allSatisfy(\.isNullable)
        case .alt(let parts): return parts.contains(where: \.isNullable)
        case .rep(let x, let lo, _): return lo == 0 || x.isNullable
        case .ref: return false
        }
    }

    /// The expression without the empty string: `x*` with a nullable `x` would otherwise be an
    /// empty loop.
    var nonEmpty: GExpr {
        switch self {
        case .bytes, .ref: return self
        case .alt(let parts): return .choice(parts.map(\.nonEmpty))
        case .seq(let parts):
            guard let first = parts.first else { return .alt([]) }
            let rest = GExpr.sequence(Array(parts.dropFirst()))
            if !first.isNullable { return self }
            // ε·rest's non-empty strings, or a non-empty first part then the rest.
            return .choice([.sequence([first.nonEmpty, rest]), rest.nonEmpty])
        case .rep(let x, let lo, let hi):
            if hi == 0 { return .alt([]) }
            let inner = x.nonEmpty
            return .sequence([inner, .rep(x, min: max(lo - 1, 0), max: hi.map { $0 - 1 })])
        }
    }
}
