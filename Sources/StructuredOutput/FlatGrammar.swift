/// One element of a grammar alternative.
enum Element: Hashable, Sendable {
    /// One byte from the set at this index of ``FlatGrammar/byteSets``.
    case bytes(Int32)
    /// The rule with this index.
    case rule(Int32)
    /// The end of an alternative.
    case end
}

/// The one grammar form every constraint compiles to: rules made of alternatives, each a
/// sequence of byte sets and rule references ending in `.end`, laid out back to back. A position
/// is an index into ``elements``.
struct FlatGrammar: Sendable {
    var elements: [Element] = []
    var byteSets: [ByteSet] = []
    /// The start position of every alternative of every rule.
    var ruleStarts: [[Int32]] = []
    var ruleNames: [String] = []
    /// The rule each position belongs to.
    var positionRule: [Int32] = []
    /// For each rule, the positions that follow a reference to it (the return positions).
    var follows: [[Int32]] = []
    var startRule: Int32 = 0
}
