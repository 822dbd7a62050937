/// The pushdown automaton's working memory: hash-consed stack nodes (a position and the node to
/// return to) and interned states (sets of stacks whose tops are byte-set positions), with
/// memoized byte transitions. A struct so the hot loops run without dynamic exclusivity checks;
/// its owner (a matcher, or a compiled grammar under a lock) keeps it.
///
/// A stack's bottom is one of two roots: ``exactRoot`` (the real bottom, or the unknown context
/// of a precomputed position) and ``approxRoot`` (used only in follow mode: "some place that
/// references the finished rule", an over-approximation of the context).
struct StackStore {
    struct Node: Hashable {
        var pos: Int32
        var parent: Int32
    }

    struct StateKey: Hashable {
        var nodes: [Int32]
        var flags: UInt8
        /// A cheap hash of the sorted nodes, so hashing a key feeds `Hasher` one word.
        let digest: UInt64

        init(nodes: [Int32], flags: UInt8) {
            self.nodes = nodes
            self.flags = flags
            var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(flags)
            for n in nodes { h = (h ^ UInt64(UInt32(bitPattern: n))) &* 0x0000_0100_0000_01B3 }
            digest = h
        }

        static func == (a: StateKey, b: StateKey) -> Bool {
            a.digest == b.digest && a.flags == b.flags && a.nodes == b.nodes
        }

        func hash(into h: inout Hasher) { h.combine(digest) }
    }

    static let exactRoot: Int32 = -1
    static let approxRoot: Int32 = -2
    /// Flag: a stack on the exact root finished (the grammar, or the precomputed rule, is complete).
    static let completedExact: UInt8 = 1
    /// Flag: an approximate stack finished the start rule (the output may end here).
    static let completedApprox: UInt8 = 2
    /// The state with no stacks and no flags.
    static let dead: Int32 = 0

    let grammar: FlatGrammar
    /// When a stack on a root finishes its rule, continue at every return position of that rule
    /// on the approximate root (used to precompute context-independent token sets).
    let followMode: Bool

    private(set) var nodes: [Node] = []
    private(set) var nodeIsApprox: [Bool] = []
    /// Node ids by `pos << 32 | parent`.
    private var nodeIndex: [UInt64: Int32] = [:]
    /// Per node, the closure pass that last saw it (instead of a set per pass).
    private var seenStamp: [UInt32] = []
    private var stamp: UInt32 = 0

    private(set) var stateNodes: [[Int32]] = []
    private(set) var stateFlags: [UInt8] = []
    /// Whether a state holds a stack on the exact root.
    private(set) var stateHasExact: [Bool] = []
    private var stateIndex: [StateKey: Int32] = [:]
    private var transitions: [Int32] = []

    init(grammar: FlatGrammar, followMode: Bool) {
        self.grammar = grammar
        self.followMode = followMode
        _ = intern(StateKey(nodes: [], flags: 0))
    }

    mutating func node(pos: Int32, parent: Int32) -> Int32 {
        let key = UInt64(UInt32(bitPattern: pos)) << 32 | UInt64(UInt32(bitPattern: parent))
        if let i = nodeIndex[key] { return i }
        let i = Int32(nodes.count)
        nodes.append(Node(pos: pos, parent: parent))
        nodeIsApprox.append(parent == StackStore.approxRoot || (parent >= 0 && nodeIsApprox[Int(parent)]))
        seenStamp.append(0)
        nodeIndex[key] = i
        return i
    }

    mutating func intern(_ key: StateKey) -> Int32 {
        if let i = stateIndex[key] { return i }
        let i = Int32(stateNodes.count)
        stateNodes.append(key.nodes)
        stateFlags.append(key.flags)
        stateHasExact.append(key.nodes.contains { !nodeIsApprox[Int($0)] })
        stateIndex[key] = i
        transitions.append(contentsOf: repeatElement(-2, count: 256))
        return i
    }

    /// The state reached by expanding the stacks `seeds` until every top is a byte set.
    mutating func closure(of seeds: [Int32]) -> Int32 {
        var tops: [Int32] = []
        var flags: UInt8 = 0
        stamp &+= 1
        if stamp == 0 {
            for k in seenStamp.indices { seenStamp[k] = 0 }
            stamp = 1
        }
        var work = seeds
        var followed: [Int32] = []
        while let n = work.popLast() {
            if seenStamp[Int(n)] == stamp { continue }
            seenStamp[Int(n)] = stamp
            let nd = nodes[Int(n)]
            switch grammar.elements[Int(nd.pos)] {
            case .bytes:
                tops.append(n)
            case .rule(let r):
                // A reference at the end of an alternative returns straight to the caller's
                // caller (tail call), so right recursion (`x*` loops) keeps the stack flat.
                // (On a root it is exact too: finishing the callee finishes the caller, and the
                // callee's follow positions include the caller's end.)
                let ret = grammar.elements[Int(nd.pos) + 1] == .end
                    ? nd.parent : node(pos: nd.pos + 1, parent: nd.parent)
                for s in grammar.ruleStarts[Int(r)] { work.append(node(pos: s, parent: ret)) }
            case .end:
                if nd.parent >= 0 {
                    work.append(nd.parent)
                    continue
                }
                let rule = grammar.positionRule[Int(nd.pos)]
                if nd.parent == StackStore.exactRoot {
                    flags |= StackStore.completedExact
                } else if rule == grammar.startRule {
                    flags |= StackStore.completedApprox
                }
                if followMode, !followed.contains(rule) {
                    followed.append(rule)
                    let (positions, reachesEnd) = effectiveFollows(rule)
                    if reachesEnd { flags |= StackStore.completedApprox }
                    for f in positions {
                        work.append(node(pos: f, parent: StackStore.approxRoot))
                    }
                }
            }
        }
        tops.sort()
        return intern(StateKey(nodes: tops, flags: flags))
    }

    private var followCache: [Int32: ([Int32], Bool)] = [:]

    /// The positions that may come after rule `r` finishes, looking through the ends of the rules
    /// that call it last (so a chain of tail calls costs one lookup, not one node per level), and
    /// whether the end of the start rule is among them.
    private mutating func effectiveFollows(_ r: Int32) -> ([Int32], Bool) {
        if let c = followCache[r] { return c }
        var positions: [Int32] = []
        var reachesEnd = false
        var visited: Set<Int32> = [r]
        var work: [Int32] = [r]
        while let x = work.popLast() {
            for f in grammar.follows[Int(x)] {
                if case .end = grammar.elements[Int(f)] {
                    let caller = grammar.positionRule[Int(f)]
                    if caller == grammar.startRule { reachesEnd = true }
                    if visited.insert(caller).inserted { work.append(caller) }
                } else {
                    positions.append(f)
                }
            }
        }
        let result = (positions, reachesEnd)
        followCache[r] = result
        return result
    }

    /// The state after byte `b` from `state` (memoized); ``dead`` when no stack takes it.
    @inline(__always)
    mutating func step(_ state: Int32, _ b: UInt8) -> Int32 {
        let t = transitions[Int(state) << 8 | Int(b)]
        if t != -2 { return t }
        return computeStep(state, b)
    }

    private mutating func computeStep(_ state: Int32, _ b: UInt8) -> Int32 {
        var seeds: [Int32] = []
        for n in stateNodes[Int(state)] {
            let nd = nodes[Int(n)]
            if case .bytes(let set) = grammar.elements[Int(nd.pos)], grammar.byteSets[Int(set)].contains(b) {
                seeds.append(node(pos: nd.pos + 1, parent: nd.parent))
            }
        }
        let next = seeds.isEmpty ? StackStore.dead : closure(of: seeds)
        transitions[Int(state) << 8 | Int(b)] = next
        return next
    }

    /// The bytes some stack of `state` may take next.
    func allowedBytes(_ state: Int32) -> ByteSet {
        var s = ByteSet()
        for n in stateNodes[Int(state)] {
            if case .bytes(let set) = grammar.elements[Int(nodes[Int(n)].pos)] {
                s.formUnion(grammar.byteSets[Int(set)])
            }
        }
        return s
    }

    /// Whether `state` is alive (some stack, or a finished one).
    @inline(__always)
    func isAlive(_ state: Int32) -> Bool { state != StackStore.dead }
}
