import Tokenization

/// The bytes of every token of a model's vocabulary, arranged as a trie for mask computation.
///
/// Special and control tokens (and unused ones) have no bytes here: a grammar never allows them,
/// except the end-of-generation tokens, which are allowed exactly where the grammar may end.
public final class TokenVocabulary: Sendable {
    /// The number of token ids (bits in a mask).
    public let size: Int
    /// The tokens that end generation.
    public let endOfGeneration: [Int32]
    let tokenBytes: [[UInt8]]
    let trie: TokenTrie

    /// The vocabulary of `tokenizer`: each token's bytes as `tokenPiece(_:special: false)` renders
    /// them (byte-level BPE decoded from the GPT-2 byte alphabet; SentencePiece `▁` as a space and
    /// `<0xNN>` as that byte).
    public convenience init(tokenizer: Tokenizer) {
        var bytes: [[UInt8]] = []
        bytes.reserveCapacity(tokenizer.vocabSize)
        for id in 0..<tokenizer.vocabSize {
            let t = Int32(id)
            if tokenizer.isEndOfGeneration(t) || tokenizer.isControl(t) {
                bytes.append([])
            } else {
                bytes.append(tokenizer.tokenPiece(t, special: false))
            }
        }
        self.init(tokenBytes: bytes, endOfGeneration: Array(tokenizer.endOfGenerationIds))
    }

    /// A vocabulary from explicit token bytes (an empty entry is a token a grammar never allows).
    public init(tokenBytes: [[UInt8]], endOfGeneration: [Int32]) {
        size = tokenBytes.count
        self.tokenBytes = tokenBytes
        self.endOfGeneration = endOfGeneration.filter { $0 >= 0 && Int($0) < tokenBytes.count }.sorted()
        trie = TokenTrie(tokenBytes)
    }

    /// The bytes of token `id` (empty for special tokens and ids out of range).
    public func bytes(of id: Int32) -> [UInt8] {
        id >= 0 && Int(id) < size ? tokenBytes[Int(id)] : []
    }

    /// The number of `UInt32` words a mask over this vocabulary needs.
    public var maskWordCount: Int { (size + 31) / 32 }
}

/// All non-empty token byte strings as a trie in depth-first order: node `i` holds one byte; its
/// subtree is `i ..< subtreeEnd[i]`; the tokens spelled by the path to it are
/// `tokens[tokenStart[i] ..< tokenStart[i + 1]]`.
struct TokenTrie: Sendable {
    var byte: [UInt8] = []
    var depth: [UInt16] = []
    var subtreeEnd: [Int32] = []
    var tokenStart: [Int32] = [0]
    var tokens: [Int32] = []
    var maxDepth = 0

    init(_ tokenBytes: [[UInt8]]) {
        let ids = tokenBytes.indices.filter { !tokenBytes[$0].isEmpty && tokenBytes[$0].count < 65_000 }
            .sorted { tokenBytes[$0].lexicographicallyPrecedes(tokenBytes[$1]) }
        var path: [Int32] = []  // node index per depth of the current path
        var prev: [UInt8] = []
        for id in ids {
            let t = tokenBytes[id]
            var common = 0
            while common < min(t.count, prev.count) && t[common] == prev[common] { common += 1 }
            if common == t.count && t.count == prev.count {
                tokens.append(Int32(id))
                tokenStart[tokenStart.count - 1] = Int32(tokens.count)
                continue
            }
            // Close the nodes below the common prefix.
            while path.count > common {
                let n = path.removeLast()
                subtreeEnd[Int(n)] = Int32(byte.count)
            }
            for d in common..<t.count {
                let n = Int32(byte.count)
                byte.append(t[d])
                depth.append(UInt16(d + 1))
                subtreeEnd.append(0)
                tokenStart.append(Int32(tokens.count))
                path.append(n)
            }
            tokens.append(Int32(id))
            tokenStart[tokenStart.count - 1] = Int32(tokens.count)
            maxDepth = max(maxDepth, t.count)
            prev = t
        }
        while let n = path.popLast() { subtreeEnd[Int(n)] = Int32(byte.count) }
    }

    var nodeCount: Int { byte.count }
}
