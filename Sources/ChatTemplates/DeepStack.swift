import Foundation

/// Runs parsing and rendering on a thread with a stack of known size, so that the nesting
/// limits (`Parser.maxDepth`, `Interpreter.maxCallDepth`) hold whatever thread calls us
/// (cooperative-pool and event-loop threads may have small stacks).
enum DeepStack {
    /// 16 MiB: the deepest input the limits allow needs under 2 MiB even in a debug build.
    static let stackSize = 16 << 20

    private final class Box<T>: @unchecked Sendable {
        var result: Result<T, Error>?
        let body: () throws -> T
        init(_ body: @escaping () throws -> T) { self.body = body }
    }

    static func run<T>(_ body: @escaping () throws -> T) throws -> T {
        let box = Box(body)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.result = Result { try box.body() }
            done.signal()
        }
        thread.stackSize = stackSize
        thread.start()
        done.wait()
        guard let result = box.result else {
            throw ChatTemplateError(message: "template worker thread ended without a result", kind: "TemplateRuntimeError")
        }
        return try result.get()
    }
}
