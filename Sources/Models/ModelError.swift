import GGUF

/// Why a model cannot be loaded or run, with what to do about it.
public enum ModelError: Error, CustomStringConvertible, Sendable {
    case unsupportedArchitecture(String)
    case missingMetadata(String)
    case invalidMetadata(key: String, value: String)
    case missingTensor(String)
    case badTensorShape(name: String, expected: [Int], actual: [Int])
    case unsupportedTensorType(name: String, type: String)
    case tokenOutOfRange(token: Int32, vocabSize: Int)
    case contextOverflow(position: Int, contextLength: Int)

    public var description: String {
        switch self {
        case let .unsupportedArchitecture(a):
            return "architecture '\(a)' is not supported; Pagewise runs llama, mistral, qwen2, qwen3 and gemma3"
        case let .missingMetadata(k): return "model metadata lacks '\(k)'; the GGUF file is incomplete"
        case let .invalidMetadata(k, v): return "model metadata '\(k)' has an impossible value \(v)"
        case let .missingTensor(n): return "model file lacks tensor '\(n)'; the GGUF file is incomplete or for another architecture"
        case let .badTensorShape(n, e, a): return "tensor '\(n)' has shape \(a), expected \(e)"
        case let .unsupportedTensorType(n, t): return "tensor '\(n)' has type \(t), which Pagewise cannot compute with yet"
        case let .tokenOutOfRange(t, v): return "token id \(t) is outside the vocabulary (size \(v))"
        case let .contextOverflow(p, c): return "position \(p) is past the model's context length \(c)"
        }
    }
}
