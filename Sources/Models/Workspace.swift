/// Activation buffers reused across forward steps; they grow to the largest batch seen and are
/// never reallocated after, so a steady decode loop allocates nothing.
final class Workspace {
    private(set) var capacityTokens = 0
    private(set) var capacityLogitRows = 0
    var x: UnsafeMutablePointer<Float> = .allocate(capacity: 1) // residual stream [n][d]
    var h: UnsafeMutablePointer<Float> = .allocate(capacity: 1) // normed input [n][d]
    var q: UnsafeMutablePointer<Float> = .allocate(capacity: 1) // [n][heads*headDim]
    var k: UnsafeMutablePointer<Float> = .allocate(capacity: 1) // [n][kvHeads*headDim]
    var v: UnsafeMutablePointer<Float> = .allocate(capacity: 1) // [n][kvHeads*valueDim]
    var att: UnsafeMutablePointer<Float> = .allocate(capacity: 1) // [n][heads*valueDim]
    var gate: UnsafeMutablePointer<Float> = .allocate(capacity: 1) // [n][ff]
    var up: UnsafeMutablePointer<Float> = .allocate(capacity: 1) // [n][ff]
    var o: UnsafeMutablePointer<Float> = .allocate(capacity: 1) // [n][d]
    var rows: UnsafeMutablePointer<Float> = .allocate(capacity: 1) // [r][d] rows that need logits
    var logits: UnsafeMutablePointer<Float> = .allocate(capacity: 1) // [r][vocab]
    private(set) var capacityGroupSlots = 0
    var slot: UnsafeMutablePointer<Int> = .allocate(capacity: 1) // [kv group][n] KV slot of each token
    var angles: UnsafeMutablePointer<Float> = .allocate(capacity: 1) // [n][2][ropeDim] RoPE cos/sin (global, sliding)
    var seqOf: UnsafeMutablePointer<Int> = .allocate(capacity: 1) // [kv group][n] offset of each token's block table in `tables`
    var contextLens: UnsafeMutablePointer<Int32> = .allocate(capacity: 1) // [n] position + 1 of each token
    var tileStart: UnsafeMutablePointer<Int32> = .allocate(capacity: 2) // [n + 1] attention tiles' bounds
    private(set) var partCapacity = 0
    var partOut: UnsafeMutablePointer<Float> = .allocate(capacity: 1) // [partition slot][heads*headDim] split attention
    var partML: UnsafeMutablePointer<Float> = .allocate(capacity: 1) // [partition slot][heads][2] their (max, sum)
    private(set) var partTokenCapacity = 0
    var partSlot: UnsafeMutablePointer<Int32> = .allocate(capacity: 1) // [token] first partition slot; [n]: the total
    private(set) var tableCapacity = 0
    var tables: UnsafeMutablePointer<Int32> = .allocate(capacity: 1) // block tables of the batch, back to back

    func reserve(tokens n: Int, logitRows r: Int, config c: ModelConfig) {
        if n > capacityTokens {
            let cap = max(n, capacityTokens * 2)
            func grow(_ p: inout UnsafeMutablePointer<Float>, _ width: Int) {
                p.deallocate()
                p = .allocate(capacity: cap * width)
            }
            grow(&x, c.embeddingLength)
            grow(&h, c.embeddingLength)
            grow(&q, c.headCount * c.headDim)
            grow(&k, c.kvHeadCount * c.headDim)
            grow(&v, c.kvHeadCount * c.valueDim)
            grow(&att, c.headCount * c.valueDim)
            grow(&gate, c.feedForwardLength)
            grow(&up, c.feedForwardLength)
            grow(&o, c.embeddingLength)
            grow(&angles, 2 * c.ropeDim)
            contextLens.deallocate()
            contextLens = .allocate(capacity: cap)
            tileStart.deallocate()
            tileStart = .allocate(capacity: cap + 1)
            capacityTokens = cap
        }
        if r > capacityLogitRows {
            let cap = max(r, capacityLogitRows * 2)
            rows.deallocate()
            rows = .allocate(capacity: cap * c.embeddingLength)
            logits.deallocate()
            logits = .allocate(capacity: cap * c.vocabSize)
            capacityLogitRows = cap
        }
    }

    /// `slot` and `seqOf` for `tokens` tokens in each of `groups` KV groups.
    func reserveGroupSlots(tokens: Int, groups: Int) {
        guard tokens * groups > capacityGroupSlots else { return }
        capacityGroupSlots = max(tokens * groups, capacityGroupSlots * 2)
        slot.deallocate()
        slot = .allocate(capacity: capacityGroupSlots)
        seqOf.deallocate()
        seqOf = .allocate(capacity: capacityGroupSlots)
    }

    /// Room for `slots` partition results of a split attention (`heads` heads of `headDim`) for
    /// `tokens` tokens.
    func reservePartitions(slots: Int, tokens: Int, heads: Int, headDim: Int) {
        if slots > partCapacity {
            partCapacity = max(slots, partCapacity * 2)
            partOut.deallocate()
            partOut = .allocate(capacity: partCapacity * heads * headDim)
            partML.deallocate()
            partML = .allocate(capacity: partCapacity * heads * 2)
        }
        if tokens > partTokenCapacity {
            partTokenCapacity = max(tokens, partTokenCapacity * 2)
            partSlot.deallocate()
            partSlot = .allocate(capacity: partTokenCapacity + 1)
        }
    }

    func reserveTables(_ count: Int) {
        guard count > tableCapacity else { return }
        tableCapacity = max(count, tableCapacity * 2)
        tables.deallocate()
        tables = .allocate(capacity: tableCapacity)
    }

    deinit {
        tables.deallocate()
        for p in [x, h, q, k, v, att, gate, up, o, rows, logits, angles, partOut, partML] { p.deallocate() }
        partSlot.deallocate()
        slot.deallocate()
        seqOf.deallocate()
        contextLens.deallocate()
        tileStart.deallocate()
    }
}
