import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One blocking HTTP exchange over URLSession: the final response, and its body either kept in
/// memory or, for a 200 / 206 answer, appended to a file as it arrives.
final class HTTPTransfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    /// What came back.
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: Data
        /// The URL that answered (after any redirects).
        var url: URL?

        func header(_ name: String) -> String? {
            let lower = name.lowercased()
            return headers.first { $0.key.lowercased() == lower }?.value
        }
    }

    private let followRedirects: Bool
    private let sink: FileHandle?
    private let onBytes: (@Sendable (Int) -> Void)?
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private var response: HTTPURLResponse?
    private var body = Data()
    private var failure: (any Error)?
    private var writeError: (any Error)?
    private var streaming = false

    private init(followRedirects: Bool, sink: FileHandle?, onBytes: (@Sendable (Int) -> Void)?) {
        self.followRedirects = followRedirects
        self.sink = sink
        self.onBytes = onBytes
    }

    /// Performs `request`; with a `sink`, a 200 or 206 body is written there (the handle's
    /// position) instead of kept. Throws only for transport failures.
    static func perform(_ request: URLRequest, followRedirects: Bool = true, sink: FileHandle? = nil,
                        timeout: TimeInterval = 60, onBytes: (@Sendable (Int) -> Void)? = nil) throws -> Response {
        let t = HTTPTransfer(followRedirects: followRedirects, sink: sink, onBytes: onBytes)
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: config, delegate: t, delegateQueue: queue)
        session.dataTask(with: request).resume()
        t.done.wait()
        session.finishTasksAndInvalidate()
        return try t.lock.withLock {
            if let e = t.writeError { throw e }
            if let e = t.failure { throw e }
            guard let r = t.response else { throw URLError(.badServerResponse) }
            var headers: [String: String] = [:]
            for (k, v) in r.allHeaderFields {
                if let k = k as? String, let v = v as? String { headers[k] = v }
            }
            return Response(status: r.statusCode, headers: headers, body: t.body, url: r.url)
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        guard followRedirects else { return completionHandler(nil) }
        var next = request
        // Credentials for the Hub are not for the CDN it redirects to.
        if next.url?.host != task.originalRequest?.url?.host { next.setValue(nil, forHTTPHeaderField: "Authorization") }
        completionHandler(next)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
        lock.withLock {
            self.response = response as? HTTPURLResponse
            let status = self.response?.statusCode ?? 0
            streaming = sink != nil && (status == 200 || status == 206)
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let write = lock.withLock { streaming }
        if write, let sink {
            do { try sink.write(contentsOf: data) } catch {
                lock.withLock { writeError = error }
                dataTask.cancel()
                return
            }
            onBytes?(data.count)
        } else {
            lock.withLock { body.append(data) }
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        lock.withLock {
            if let error { failure = error }
            // A redirect that was not followed ends the task with the 3xx response.
            if response == nil, let r = task.response as? HTTPURLResponse { response = r }
        }
        done.signal()
    }
}
