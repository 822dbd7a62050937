/// One sequence's share of a forward batch: a run of consecutive tokens and its block tables.
public struct BatchSequence: Sendable {
    /// Index of this sequence's first token in the flattened batch.
    public var tokenStart: Int
    /// How many of its tokens are in this batch (a prefill chunk, or 1 for decode).
    public var tokenCount: Int
    /// One table per group of the cache's `KVLayout`: the physical KV block of each logical block.
    /// Each must cover every position up to the last one in this batch; a sliding-window group's
    /// entries before the window of this batch's first token may be -1 (given back).
    public var blockTables: [[Int32]]

    public init(tokenStart: Int, tokenCount: Int, blockTables: [[Int32]]) {
        self.tokenStart = tokenStart
        self.tokenCount = tokenCount
        self.blockTables = blockTables
    }

    /// A sequence of a cache with the `single` layout (one table).
    public init(tokenStart: Int, tokenCount: Int, blockTable: [Int32]) {
        self.init(tokenStart: tokenStart, tokenCount: tokenCount, blockTables: [blockTable])
    }
}

/// All tokens of one forward step, flattened across sequences.
public struct ForwardBatch: Sendable {
    public var tokens: [Int32] = []
    /// Position of each token within its own sequence.
    public var positions: [Int32] = []
    public var sequences: [BatchSequence] = []
    /// Flattened token indices whose logits are wanted, in output order.
    public var logitIndices: [Int] = []

    public init() {}

    /// Empties the batch but keeps its storage, so a step loop that reuses one batch allocates nothing.
    public mutating func reset() {
        tokens.removeAll(keepingCapacity: true)
        positions.removeAll(keepingCapacity: true)
        sequences.removeAll(keepingCapacity: true)
        logitIndices.removeAll(keepingCapacity: true)
    }

    /// Appends a run of tokens of one sequence starting at `startPosition` (a cache with the
    /// `single` layout: one block table).
    public mutating func append(tokens newTokens: some Collection<Int32>, startPosition: Int, blockTable: [Int32], wantLogits: LogitRequest) {
        append(tokens: newTokens, startPosition: startPosition, blockTables: [blockTable], wantLogits: wantLogits)
    }

    /// Appends a run of tokens of one sequence starting at `startPosition`, with one block table
    /// per group of the cache's layout.
    public mutating func append(tokens newTokens: some Collection<Int32>, startPosition: Int, blockTables: [[Int32]],
                                wantLogits: LogitRequest) {
        let start = tokens.count
        tokens.append(contentsOf: newTokens)
        for k in 0 ..< newTokens.count { positions.append(Int32(startPosition + k)) }
        sequences.append(BatchSequence(tokenStart: start, tokenCount: newTokens.count, blockTables: blockTables))
        switch wantLogits {
        case .none: break
        case .last: if !newTokens.isEmpty { logitIndices.append(tokens.count - 1) }
        case .all: for k in start ..< tokens.count { logitIndices.append(k) }
        }
    }

    public enum LogitRequest: Sendable { case none, last, all }
}
