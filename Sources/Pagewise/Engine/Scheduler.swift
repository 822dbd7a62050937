import Dispatch
/// Order in which waiting requests are admitted and running ones preempted.
public enum SchedulingPolicy: String, Sendable, CaseIterable {
    /// First come, first served; preempt the most recently admitted.
    case fcfs
    /// Lower `priority` first (FCFS within a level); preempt the lowest-priority (highest value) first.
    case priority
}

/// What one engine step runs: each sequence with the number of new tokens it computes.
struct ScheduledBatch {
    var entries: [(seq: Sequence, numNew: Int, copies: [(Int32, Int32)])] = []
    /// K/V block copies (copy-on-write) to perform before the forward pass.
    var copies: [(Int32, Int32)] { entries.flatMap(\.copies) }
    var totalTokens: Int { entries.reduce(0) { $0 + $1.numNew } }
    var isEmpty: Bool { entries.isEmpty }
}

/// vLLM v1's single rule: each step has a token budget; every running sequence needs
/// `numTokens - numComputed` more tokens (a decode step costs 1, an unfinished prefill a chunk),
/// running sequences go first, then waiting ones in policy order while blocks and budget allow.
final class Scheduler {
    let blocks: BlockManager
    let maxNumBatchedTokens: Int
    let maxNumSeqs: Int
    let policy: SchedulingPolicy
    private(set) var waiting: [Sequence] = []
    private(set) var running: [Sequence] = []
    private(set) var preemptions = 0

    init(blocks: BlockManager, maxNumBatchedTokens: Int, maxNumSeqs: Int, policy: SchedulingPolicy) {
        self.blocks = blocks
        self.maxNumBatchedTokens = maxNumBatchedTokens
        self.maxNumSeqs = maxNumSeqs
        self.policy = policy
    }

    var hasWork: Bool { !waiting.isEmpty || !running.isEmpty }

    func add(_ seq: Sequence) {
        seq.status = .waiting
        waiting.append(seq)
    }

    /// Adds a forked sequence that already holds its blocks and is mid-generation.
    func addRunning(_ seq: Sequence) {
        seq.status = .running
        running.append(seq)
    }

    /// Index in `waiting` of the next request to admit.
    private func nextWaitingIndex() -> Int? {
        guard !waiting.isEmpty else { return nil }
        if policy == .fcfs { return 0 }
        var best = 0
        for i in 1 ..< waiting.count where (waiting[i].priority, waiting[i].arrival) < (waiting[best].priority, waiting[best].arrival) {
            best = i
        }
        return best
    }

    /// Index in `running` of the sequence to preempt.
    private func victimIndex() -> Int {
        if policy == .fcfs { return running.count - 1 }
        var worst = running.count - 1
        for i in 0 ..< running.count where (running[i].priority, running[i].arrival) > (running[worst].priority, running[worst].arrival) {
            worst = i
        }
        return worst
    }

    private func preempt(at i: Int) -> Sequence {
        let victim = running.remove(at: i)
        blocks.release(&victim.blockTables)
        victim.numComputed = 0
        victim.status = .waiting
        waiting.insert(victim, at: 0)
        preemptions += 1
        return victim
    }

    func schedule() -> ScheduledBatch {
        var batch = ScheduledBatch()
        var budget = maxNumBatchedTokens
        var scheduled = Set<ObjectIdentifier>()

        var i = 0
        while i < running.count, budget > 0 {
            let seq = running[i]
            let numNew = min(seq.numTokens - seq.numComputed, budget, seq.chunkLimit)
            if numNew <= 0 { i += 1; continue }
            var reserved: (copies: [(Int32, Int32)], ok: Bool) = ([], false)
            while true {
                reserved = blocks.reserve(&seq.blockTables, writeFrom: seq.numComputed, totalTokens: seq.numComputed + numNew)
                if reserved.ok { break }
                // Out of blocks: preempt, possibly this very sequence.
                let v = victimIndex()
                let victim = running[v]
                if scheduled.contains(ObjectIdentifier(victim)), let k = batch.entries.firstIndex(where: { $0.seq === victim }) {
                    // Give back what it was going to compute in this step.
                    budget += batch.entries[k].numNew
                    batch.entries.remove(at: k)
                    scheduled.remove(ObjectIdentifier(victim))
                }
                _ = preempt(at: v)
                if v < i { i -= 1 }
                if victim === seq { break }
            }
            if reserved.ok {
                batch.entries.append((seq, numNew, reserved.copies))
                scheduled.insert(ObjectIdentifier(seq))
                budget -= numNew
                i += 1
            }
        }

        // Admit waiting requests while budget, sequence slots and blocks allow.
        while budget > 0, running.count < maxNumSeqs, let w = nextWaitingIndex() {
            let seq = waiting[w]
            var computed = blocks.emptyTables
            if seq.numComputed == 0 && seq.readsPrefixCache {
                computed = blocks.cachedPrefix(of: seq.tokens, hashes: &seq.blockHashes)
            }
            let start = computed[0].count * blocks.blockSize
            let numNew = min(seq.numTokens - start, budget, seq.chunkLimit)
            guard blocks.allocate(&seq.blockTables, totalTokens: start + numNew, computed: computed) else { break }
            waiting.remove(at: w)
            if seq.outputCount == 0 { seq.cachedPromptTokens = start }
            seq.numComputed = start
            if seq.firstScheduledAt == nil { seq.firstScheduledAt = DispatchTime.now().uptimeNanoseconds }
            seq.status = .running
            running.append(seq)
            batch.entries.append((seq, numNew, []))
            scheduled.insert(ObjectIdentifier(seq))
            budget -= numNew
        }
        return batch
    }

    /// Removes a finished or aborted sequence and frees its blocks.
    func finish(_ seq: Sequence) {
        if let i = running.firstIndex(where: { $0 === seq }) { running.remove(at: i) }
        if let i = waiting.firstIndex(where: { $0 === seq }) { waiting.remove(at: i) }
        blocks.release(&seq.blockTables)
        seq.status = .finished
    }

    /// Every sequence of a request, wherever it is.
    func sequences(of requestId: String) -> [Sequence] {
        (running + waiting).filter { $0.requestId == requestId }
    }
}
