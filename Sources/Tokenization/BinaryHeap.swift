/// A minimal binary heap; `before(a, b)` is true when `a` must come out before `b`.
struct BinaryHeap<Element> {
    private(set) var items: [Element] = []
    let before: (Element, Element) -> Bool

    init(before: @escaping (Element, Element) -> Bool) {
        self.before = before
    }

    var isEmpty: Bool { items.isEmpty }

    mutating func removeAll() { items.removeAll(keepingCapacity: true) }

    mutating func push(_ e: Element) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) >> 1
            if before(items[i], items[parent]) {
                items.swapAt(i, parent)
                i = parent
            } else {
                break
            }
        }
    }

    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            let n = items.count
            while true {
                let l = 2 * i + 1
                if l >= n { break }
                var best = l
                let r = l + 1
                if r < n && before(items[r], items[l]) { best = r }
                if before(items[best], items[i]) {
                    items.swapAt(best, i)
                    i = best
                } else {
                    break
                }
            }
        }
        return top
    }
}
