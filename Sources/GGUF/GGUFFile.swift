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
    public convenience init(path: String) throws {
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
        try self.init(base: UnsafeRawPointer(p), size: size, mapped: true, path: path)
    }

    /// Parses a GGUF image held in memory (the bytes are copied once; used by tests and tools).
    public convenience init(bytes: [UInt8]) throws {
        guard bytes.count >= 24 else { throw GGUFError.truncated(what: "header", offset: 0) }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
        bytes.withUnsafeBytes { src in buffer.copyMemory(from: src.baseAddress.unsafelyUnwrapped, byteCount: bytes.count) }
        try self.init(base: UnsafeRawPointer(buffer), size: bytes.count, mapped: false, path: nil)
    }

    /// Takes ownership of `size` bytes at `base` (a mapping, or an allocation): parses them, or
    /// releases them and throws.
    private init(base: UnsafeRawPointer, size: Int, mapped: Bool, path: String?) throws {
        do {
            let r = try GGUFParser.parse(UnsafeRawBufferPointer(start: base, count: size))
            (version, metadata, tensors, alignment, dataOffset) = (r.version, r.metadata, r.tensors, r.alignment, r.dataOffset)
        } catch {
            if mapped { munmap(UnsafeMutableRawPointer(mutating: base), size) } else { base.deallocate() }
            throw error
        }
        self.base = base
        self.mapped = mapped
        fileSize = size
        self.path = path
        // Names are unique (the parser rejects duplicates).
        tensorIndex = Dictionary(uniqueKeysWithValues: tensors.enumerated().map { ($1.name, $0) })
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

    /// Tells the kernel that this process will rarely read `tensor`'s bytes again (a copy of
    /// them is used instead): the whole pages inside it leave the process's resident memory now
    /// and are read back from the file if ever touched. Does nothing for in-memory images.
    public func releasePages(of tensor: GGUFTensorInfo) {
        guard mapped else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard page > 0 else { return }
        let start = UInt(bitPattern: base + dataOffset + tensor.offset)
        let end = start + UInt(tensor.byteCount)
        let first = (start + UInt(page) - 1) / UInt(page) * UInt(page)
        let last = end / UInt(page) * UInt(page)
        guard last > first, let p = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(p, Int(last - first), MADV_DONTNEED)
    }
}
