#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A GGUF model file, memory-mapped read-only. Tensor data is never copied: `data(of:)`
/// returns a pointer into the mapping, valid as long as this object lives.
public final class GGUFFile: @unchecked Sendable {
    /// GGUF format version (2 or 3).
    public let version: UInt32
    public let metadata: GGUFMetadata
    /// The tensor directory, in file order.
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Byte offset of the tensor data section.
    public let dataOffset: Int
    /// Total file size in bytes.
    public let fileSize: Int
    public let path: String?

    private let base: UnsafeRawPointer
    private let mapped: Bool
    private let tensorIndex: [String: Int]

    /// Maps and parses the file at `path`.
    public init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw GGUFError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw GGUFError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw GGUFError.cannotOpen(path: path, reason: "not a regular file") }
        let size = Int(st.st_size)
        guard size >= 24 else { throw GGUFError.truncated(what: "header", offset: 0) }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw GGUFError.cannotOpen(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        let raw = UnsafeRawPointer(p)
        do {
            let r = try GGUFParser.parse(UnsafeRawBufferPointer(start: raw, count: size))
            (version, metadata, tensors, alignment, dataOffset) = (r.version, r.metadata, r.tensors, r.alignment, r.dataOffset)
        } catch {
            munmap(p, size)
            throw error
        }
        base = raw
        mapped = true
        fileSize = size
        self.path = path
        tensorIndex = Dictionary(tensors.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Parses a GGUF image held in memory (the bytes are copied once; used by tests and tools).
    public init(bytes: [UInt8]) throws {
        let size = bytes.count
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(size, 1), alignment: 64)
        bytes.withUnsafeBytes { src in
            if let from = src.baseAddress, size > 0 { buffer.copyMemory(from: from, byteCount: size) }
        }
        do {
            guard size >= 24 else { throw GGUFError.truncated(what: "header", offset: 0) }
            let r = try GGUFParser.parse(UnsafeRawBufferPointer(start: buffer, count: size))
            (version, metadata, tensors, alignment, dataOffset) = (r.version, r.metadata, r.tensors, r.alignment, r.dataOffset)
        } catch {
            buffer.deallocate()
            throw error
        }
        base = UnsafeRawPointer(buffer)
        mapped = false
        fileSize = size
        path = nil
        tensorIndex = Dictionary(tensors.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    deinit {
        if mapped { munmap(UnsafeMutableRawPointer(mutating: base), fileSize) } else { base.deallocate() }
    }

    /// `general.architecture`, e.g. "llama" or "gemma3".
    public var architecture: String? { metadata.string("general.architecture") }

    /// The directory entry for a tensor name, if present.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// Pointer to a tensor's bytes inside the mapping (bounds were checked when the file was opened).
    public func data(of tensor: GGUFTensorInfo) -> UnsafeRawPointer {
        base + dataOffset + tensor.offset
    }
}
