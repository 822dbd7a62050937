import Foundation
import Pagewise
#if canImport(Glibc)
import Glibc
#endif

/// Shows download progress on stderr: a redrawn bar on a terminal (bytes, rate, ETA), a plain
/// line every few seconds otherwise.
final class DownloadProgressView: @unchecked Sendable {
    private let lock = NSLock()
    private let tty = isatty(STDERR_FILENO) != 0
    private var lastLine = Date.distantPast

    func show(_ p: DownloadProgress) {
        lock.withLock {
            let size = p.total.map { " / " + ByteFormat.string($0) } ?? ""
            let rate = ByteFormat.string(Int(p.bytesPerSecond)) + "/s"
            let eta = p.secondsLeft.map { " ETA " + Self.duration($0) } ?? ""
            let name = (p.file as NSString).lastPathComponent
            if tty {
                var bar = ""
                if let total = p.total, total > 0 {
                    let width = 30
                    let filled = min(width, p.received * width / total)
                    bar = "[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "] "
                        + String(format: "%3d%% ", p.received * 100 / total)
                }
                let line = "\r\u{1B}[2K\(name) \(bar)\(ByteFormat.string(p.received))\(size) \(rate)\(p.finished ? "" : eta)"
                FileHandle.standardError.write(Data((line + (p.finished ? "\n" : "")).utf8))
            } else if p.finished || Date().timeIntervalSince(lastLine) >= 5 {
                lastLine = Date()
                let pct = p.total.map { String(format: " (%d%%)", $0 > 0 ? p.received * 100 / $0 : 100) } ?? ""
                Stderr.print("\(name): \(ByteFormat.string(p.received))\(size)\(pct) \(rate)\(p.finished ? " done" : eta)")
            }
        }
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? "\(t / 3600)h\(String(format: "%02d", t % 3600 / 60))m" : t >= 60 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : "\(t)s"
    }
}
