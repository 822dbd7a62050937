/// Everything that can be wrong with a GGUF file, each with a message that says what to do.
public enum GGUFError: Error, CustomStringConvertible, Equatable, Sendable {
    case cannotOpen(path: String, reason: String)
    case notGGUF(magic: UInt32)
    case unsupportedVersion(UInt32)
    case truncated(what: String, offset: Int)
    case implausibleCount(what: String, count: UInt64)
    case unknownValueType(key: String, type: UInt32)
    case invalidUTF8(what: String)
    case duplicateKey(String)
    case duplicateTensor(String)
    case badAlignment(UInt64)
    case tooManyDimensions(tensor: String, dims: UInt32)
    case badDimensions(tensor: String, dims: [UInt64])
    case unknownTensorType(tensor: String, type: UInt32)
    case misalignedTensor(tensor: String, offset: UInt64)
    case tensorOutOfBounds(tensor: String, end: UInt64, fileSize: UInt64)
    case rowNotBlockAligned(tensor: String, type: String, cols: UInt64, block: Int)
    case wrongValueType(key: String, expected: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "cannot open model file '\(path)': \(reason)"
        case let .notGGUF(magic):
            return "not a GGUF file (magic 0x\(String(magic, radix: 16)), expected 'GGUF'); pass a .gguf model file"
        case let .unsupportedVersion(v):
            return "model file is GGUF v\(v); Pagewise reads v2 and v3 (re-convert the model with a current llama.cpp)"
        case let .truncated(what, offset):
            return "GGUF file is truncated or corrupt: ran out of bytes reading \(what) at offset \(offset); download the file again"
        case let .implausibleCount(what, count):
            return "GGUF file is corrupt: \(what) is \(count), more than the file could hold"
        case let .unknownValueType(key, type):
            return "GGUF file is corrupt: metadata key '\(key)' has unknown value type \(type)"
        case let .invalidUTF8(what):
            return "GGUF file is corrupt: \(what) is not valid UTF-8"
        case let .duplicateKey(key):
            return "GGUF file is corrupt: metadata key '\(key)' appears twice"
        case let .duplicateTensor(name):
            return "GGUF file is corrupt: tensor '\(name)' appears twice"
        case let .badAlignment(a):
            return "GGUF file is corrupt: general.alignment is \(a); it must be a power of two"
        case let .tooManyDimensions(tensor, dims):
            return "GGUF file is corrupt: tensor '\(tensor)' has \(dims) dimensions (at most 4)"
        case let .badDimensions(tensor, dims):
            return "GGUF file is corrupt: tensor '\(tensor)' has impossible dimensions \(dims)"
        case let .unknownTensorType(tensor, type):
            return "tensor '\(tensor)' has ggml type \(type), which Pagewise does not know; use a model quantized to a supported type"
        case let .misalignedTensor(tensor, offset):
            return "GGUF file is corrupt: tensor '\(tensor)' data offset \(offset) is not aligned"
        case let .tensorOutOfBounds(tensor, end, fileSize):
            return "GGUF file is truncated or corrupt: tensor '\(tensor)' ends at byte \(end) but the file has \(fileSize); download the file again"
        case let .rowNotBlockAligned(tensor, type, cols, block):
            return "GGUF file is corrupt: tensor '\(tensor)' of type \(type) has rows of \(cols) values, not a multiple of its block size \(block)"
        case let .wrongValueType(key, expected):
            return "metadata key '\(key)' should hold \(expected)"
        }
    }
}
