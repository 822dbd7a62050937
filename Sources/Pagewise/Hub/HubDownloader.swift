import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Where a download stands, for a progress bar.
public struct DownloadProgress: Sendable {
    /// The file being fetched.
    public var file: String
    /// Bytes on disk so far (a resumed download starts past zero).
    public var received: Int
    /// The file's size, when known.
    public var total: Int?
    /// Bytes per second of this run so far.
    public var bytesPerSecond: Double
    /// True on the last report of the file.
    public var finished: Bool

    /// Seconds left at the current rate, when the size is known.
    public var secondsLeft: Double? {
        guard let total, bytesPerSecond > 0 else { return nil }
        return Double(max(0, total - received)) / bytesPerSecond
    }
}

/// Downloads one Hub file into the cache: into `FILE.partial` with HTTP Range requests that pick
/// up where a dropped connection (or an earlier run) stopped, checked against the LFS sha256, then
/// renamed into place. A lock file (`FILE.lock`, `flock`) makes a second pull of the same file
/// wait for the first and then find it done.
public struct HubDownloader: Sendable {
    /// The client that talks to the Hub.
    public let client: HubClient
    /// Attempts per file before giving up (each resumes from the bytes already on disk).
    public var attempts = 5

    /// A downloader.
    public init(client: HubClient) { self.client = client }

    /// Fetches `file` of `repository` to `destination` unless it is already there.
    public func download(repository: String, revision: String, file: HubFile, to destination: String,
                         progress: @escaping @Sendable (DownloadProgress) -> Void = { _ in }) throws(HubError) {
        let dir = (destination as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw .io("cannot create \(dir): \(error.localizedDescription)")
        }
        let lockFD = open(destination + ".lock", O_CREAT | O_RDWR, 0o644)
        guard lockFD >= 0 else { throw .io("cannot create the lock file \(destination).lock") }
        defer { close(lockFD) }
        flock(lockFD, LOCK_EX)
        defer { flock(lockFD, LOCK_UN) }
        if let size = Self.fileSize(destination), file.size == nil || size == file.size { return }

        let partial = destination + ".partial"
        let url = client.resolveURL(repository: repository, revision: revision, path: file.path)
        var attempt = 0
        while true {
            attempt += 1
            do {
                try fetch(url: url, repository: repository, file: file, partial: partial, progress: progress)
                break
            } catch {
                // Dropped connections and server errors are retried from the bytes on disk.
                let retriable: Bool
                switch error {
                case .network, .http: retriable = true
                default: retriable = false
                }
                guard retriable, attempt < attempts else { throw error }
                Thread.sleep(forTimeInterval: min(4, 0.25 * Double(attempt)))
            }
        }
        if let size = file.size, let have = Self.fileSize(partial), have != size {
            try? FileManager.default.removeItem(atPath: partial)
            throw .badResponse("\(file.path) arrived with \(have) bytes, the Hub said \(size); pull again")
        }
        if let expected = file.sha256 {
            let actual: String
            do { actual = try ModelStore.sha256(ofFile: partial) } catch { throw .io("cannot read \(partial) back") }
            guard actual == expected else {
                try? FileManager.default.removeItem(atPath: partial)
                throw .checksumMismatch(file: file.path, expected: expected, actual: actual)
            }
        }
        guard rename(partial, destination) == 0 else { throw .io("cannot move \(partial) to \(destination)") }
    }

    /// One GET from the bytes already in `partial` to the end.
    private func fetch(url: String, repository: String, file: HubFile, partial: String,
                       progress: @escaping @Sendable (DownloadProgress) -> Void) throws(HubError) {
        var have = Self.fileSize(partial) ?? 0
        if let size = file.size, have > size {
            try? FileManager.default.removeItem(atPath: partial)
            have = 0
        }
        if let size = file.size, have == size, size > 0 { return }
        if have == 0, !FileManager.default.createFile(atPath: partial, contents: nil) { throw .io("cannot create \(partial)") }
        guard let handle = FileHandle(forWritingAtPath: partial), let u = URL(string: url) else {
            throw .io("cannot open \(partial) for writing")
        }
        defer { try? handle.close() }
        var req = client.request(u, method: "GET")
        if have > 0 { req.setValue("bytes=\(have)-", forHTTPHeaderField: "Range") }
        do { try handle.seek(toOffset: UInt64(have)) } catch { throw .io("cannot seek in \(partial)") }

        let meter = ProgressMeter(file: file.path, start: have, total: file.size, report: progress)
        let response: HTTPTransfer.Response
        do {
            response = try HTTPTransfer.perform(req, sink: handle, timeout: 60) { meter.add($0) }
        } catch {
            throw .network("GET \(url): \(error.localizedDescription)")
        }
        switch response.status {
        case 206:
            // Content-Range: bytes START-END/TOTAL must start where the file ends.
            if let range = response.header("Content-Range"), !range.hasPrefix("bytes \(have)-") {
                try? FileManager.default.removeItem(atPath: partial)
                throw .http(status: 206, url: url)
            }
        case 200:
            if have > 0 {
                // The server sent the whole file from its start after our bytes: keep only its bytes.
                try Self.keepTail(partial, from: have)
            }
        case 416:
            try? FileManager.default.removeItem(atPath: partial)
            throw .http(status: 416, url: url)
        default:
            try client.check(response.status, url: url, repository: repository, what: "\(repository)/\(file.path)")
            throw .http(status: response.status, url: url)
        }
        meter.finish()
    }

    /// Drops the first `count` bytes of a file (a server that ignored Range sent it whole).
    private static func keepTail(_ path: String, from count: Int) throws(HubError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw .io("cannot read \(path)") }
        do { try data.dropFirst(count).write(to: URL(fileURLWithPath: path)) } catch { throw .io("cannot rewrite \(path)") }
    }

    static func fileSize(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.size].flatMap { ($0 as? NSNumber)?.intValue }
    }
}

/// Counts bytes and reports at most a few times a second.
private final class ProgressMeter: @unchecked Sendable {
    private let lock = NSLock()
    private let file: String
    private let total: Int?
    private let start: Int
    private var received: Int
    private let began = Date()
    private var lastReport = Date.distantPast
    private let report: @Sendable (DownloadProgress) -> Void

    init(file: String, start: Int, total: Int?, report: @escaping @Sendable (DownloadProgress) -> Void) {
        self.file = file
        self.start = start
        self.total = total
        self.received = start
        self.report = report
    }

    func add(_ n: Int) {
        let p: DownloadProgress? = lock.withLock {
            received += n
            let now = Date()
            guard now.timeIntervalSince(lastReport) >= 0.2 else { return nil }
            lastReport = now
            return snapshot(now, finished: false)
        }
        if let p { report(p) }
    }

    func finish() {
        let p = lock.withLock { snapshot(Date(), finished: true) }
        report(p)
    }

    private func snapshot(_ now: Date, finished: Bool) -> DownloadProgress {
        let elapsed = max(now.timeIntervalSince(began), 1e-3)
        return DownloadProgress(file: file, received: received, total: total,
                                bytesPerSecond: Double(received - start) / elapsed, finished: finished)
    }
}
