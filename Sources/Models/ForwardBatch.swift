/// One sequence's share of a forward batch: a run of consecutive tokens and its block table.
public struct BatchSequence: Sendable {
    /// Index of this sequence's first token in the flattened batch.
    public var tokenStart: Int
    /// How many of its tokens are in this batch (a prefill chunk, or 1 for decode).
    public var tokenCount: Int
    /// Physical KV block of each logical block; must cover every position up to the last one in this batch.
    public var blockTable: [Int32]

    public init(tokenStart: Int, tokenCount: Int, blockTable: [Int32]) {
        self.tokenStart = tokenStart
        self.tokenCount = tokenCount
        self.blockTable = blockTable
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

    /// Appends a run of tokens of one sequence starting at `startPosition`.
    public mutating func append(tokens newTokens: some Collection<Int32>, startPosition: Int, blockTable: [Int32], wantLogits: LogitRequest) {
        let start = tokens.count
        tokens.append(contentsOf: newTokens)
        positions.append(contentsOf: (0 ..< newTokens.count).map { Int32(startPosition + $0) })
        sequences.append(BatchSequence(tokenStart: start, tokenCount: newTokens.count, blockTable: blockTable))
        switch wantLogits {
        case .none: break
        case .last: if !newTokens.isEmpty { logitIndices.append(tokens.count - 1) }
        case .all: logitIndices.append(contentsOf: start ..< tokens.count)
        }
    }

    public enum LogitRequest: Sendable { case none, last, all }
}
