/// How the layers of a model share the pages of the paged KV pool (vLLM's KV cache groups).
///
/// Layers are split into groups of `groupSize` layers of one attention kind. Every sequence has one
/// block table per group; a page is held by one group at a time and stores that group's layers at
/// the same position: member `m` of the group (`memberOfLayer`) writes page `p` of the pool's K/V
/// array `m`. So all pages have one size (`groupSize` layers × block size tokens) and the pool
/// needs no split between kinds, while a sliding-window group can give back its pages that fell
/// out of the window (`groupWindows`) as its sequence moves on.
///
/// `single`: one group of every layer, one table per sequence; a page holds every layer's K/V
/// at its positions.
public struct KVLayout: Sendable, Equatable {
    /// Layers per group, and so K/V arrays of the pool.
    public let groupSize: Int
    /// The group of each layer.
    public let groupOfLayer: [Int]
    /// Index of each layer within its group: the pool's K/V array it uses.
    public let memberOfLayer: [Int]
    /// Sliding window of each group's layers, in tokens (0: full attention, pages kept).
    public let groupWindows: [Int]

    public var groupCount: Int { groupWindows.count }

    public init(groupSize: Int, groupOfLayer: [Int], memberOfLayer: [Int], groupWindows: [Int]) {
        precondition(groupSize >= 1 && groupOfLayer.count == memberOfLayer.count && !groupWindows.isEmpty)
        self.groupSize = groupSize
        self.groupOfLayer = groupOfLayer
        self.memberOfLayer = memberOfLayer
        self.groupWindows = groupWindows
    }
    public var layerCount: Int { groupOfLayer.count }

    /// One group of all `layers` layers, no page ever given back early.
    public static func single(layers: Int) -> KVLayout {
        KVLayout(groupSize: max(layers, 1), groupOfLayer: [Int](repeating: 0, count: layers),
                 memberOfLayer: Array(0 ..< layers), groupWindows: [0])
    }

    /// Sliding-window layers and full-attention layers in separate groups of
    /// gcd(sliding count, global count) layers each (Gemma 3 270M: 15 sliding and 3 global layers
    /// give five sliding groups and one global group of 3 layers), in layer order, global groups
    /// first. `single` for a model without sliding layers, or whose window covers its context.
    public static func hybrid(_ c: ModelConfig) -> KVLayout {
        let sliding = (0 ..< c.layerCount).filter { c.isSlidingLayer[$0] }
        let global = (0 ..< c.layerCount).filter { !c.isSlidingLayer[$0] }
        guard !sliding.isEmpty, c.slidingWindow > 0, c.slidingWindow < c.contextLength else { return single(layers: c.layerCount) }
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        let size = gcd(sliding.count, global.count)
        var group = [Int](repeating: 0, count: c.layerCount), member = group
        var windows: [Int] = []
        for (layers, window) in [(global, 0), (sliding, c.slidingWindow)] {
            for (k, l) in layers.enumerated() {
                if k % size == 0 { windows.append(window) }
                group[l] = windows.count - 1
                member[l] = k % size
            }
        }
        return KVLayout(groupSize: size, groupOfLayer: group, memberOfLayer: member, groupWindows: windows)
    }

    /// The layout an engine uses for a model: `hybrid` unless told to keep every position of
    /// every layer (`single`).
    public init(_ c: ModelConfig, hybrid: Bool) {
        self = hybrid ? .hybrid(c) : .single(layers: c.layerCount)
    }

    /// Groups that give back pages that fell out of their window.
    public var slidingGroupCount: Int { groupWindows.filter { $0 > 0 }.count }

    /// Whether some group gives back pages that fell out of its window.
    public var hasSlidingGroups: Bool { slidingGroupCount > 0 }

    /// First position a query at `position` reads in a group with sliding window `window` (0: full).
    @inline(__always) public static func windowStart(position: Int, window: Int) -> Int {
        window > 0 ? max(0, position - window + 1) : 0
    }

    /// The most pages one sequence holds at once while its first `tokens` positions are computed
    /// in steps of at most `chunk` tokens: a full-attention group holds every page of its
    /// positions; a sliding group only those its next step's queries can read, from the window of
    /// the step's first token to its last token: ≤ window − 1 + chunk positions, which touch at
    /// most ⌈(window + chunk − 2) / blockSize⌉ + 1 pages.
    public func pagesPerSequence(tokens: Int, blockSize: Int, chunk: Int) -> Int {
        let full = (tokens + blockSize - 1) / blockSize
        return groupWindows.reduce(0) { sum, w in
            guard w > 0 else { return sum + full }
            let span = w + max(chunk, 1) - 2
            return sum + min(full, (span + blockSize - 1) / blockSize + 1)
        }
    }

    /// The longest sequence whose pages fit in `pages` pages (`pagesPerSequence`), at most `limit`.
    public func longestSequence(pages: Int, blockSize: Int, chunk: Int, limit: Int) -> Int {
        if pagesPerSequence(tokens: limit, blockSize: blockSize, chunk: chunk) <= pages { return limit }
        var lo = 0, hi = limit // pagesPerSequence grows with tokens: the last that fits
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if pagesPerSequence(tokens: mid, blockSize: blockSize, chunk: chunk) <= pages { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }
}
