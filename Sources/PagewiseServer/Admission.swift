import Foundation

/// Counts generation requests in flight and refuses new ones (429) past the limit.
final class Admission: @unchecked Sendable {
    private let lock = NSLock()
    private var inFlight = 0
    let limit: Int?

    init(limit: Int?) { self.limit = limit }

    /// Takes a slot, or throws 429 when none is free. Pair with `release()`.
    func acquire() throws(OpenAIError) {
        let ok = lock.withLock { () -> Bool in
            if let limit, inFlight >= limit { return false }
            inFlight += 1
            return true
        }
        guard ok else {
            throw OpenAIError(status: .tooManyRequests,
                              message: "the server's queue is full (\(limit ?? 0) requests in flight, --max-queue); retry later")
        }
    }

    func release() {
        lock.withLock { inFlight -= 1 }
    }

    var count: Int { lock.withLock { inFlight } }
}

/// A place in the admission count, given back once (at the latest when it is dropped).
final class AdmissionSlot: @unchecked Sendable {
    private let admission: Admission
    private let lock = NSLock()
    private var held = true

    init(_ admission: Admission) throws(OpenAIError) {
        try admission.acquire()
        self.admission = admission
    }

    func release() {
        let wasHeld = lock.withLock { () -> Bool in
            defer { held = false }
            return held
        }
        if wasHeld { admission.release() }
    }

    deinit { release() }
}
