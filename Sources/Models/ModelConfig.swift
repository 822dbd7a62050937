import GGUF
import Kernels

/// The model families Pagewise can run.
public enum Architecture: String, Sendable, CaseIterable {
    case llama, mistral, qwen2, qwen3, gemma3
}

/// Hyperparameters read from a GGUF file's metadata.
public struct ModelConfig: Sendable {
    public let architecture: Architecture
    public let layerCount: Int
    public let embeddingLength: Int
    public let feedForwardLength: Int
    public let headCount: Int
    public let kvHeadCount: Int
    /// Per-head dimension of queries and keys.
    public let headDim: Int
    /// Per-head dimension of values.
    public let valueDim: Int
    public let vocabSize: Int
    public let contextLength: Int
    public let rmsEps: Float
    public let ropeDim: Int
    public let ropeStyle: RoPEStyle
    /// RoPE base of global (full-attention) layers.
    public let ropeBase: Float
    /// RoPE base of sliding-window layers (Gemma 3), equal to `ropeBase` elsewhere.
    public let ropeBaseSliding: Float
    /// Linear RoPE scaling factor applied to global layers (1 = none).
    public let ropeFreqScale: Float
    /// Sliding window length in tokens (0 = no sliding layers).
    public let slidingWindow: Int
    /// Which layers use the sliding window.
    public let isSlidingLayer: [Bool]
    /// Multiplier on query·key before softmax.
    public let attentionScale: Float
    /// Multiplier applied to the input embeddings (sqrt(n_embd) for Gemma).
    public let embeddingScale: Float
    /// Gemma-style extra norms after attention and after the FFN, GELU gating, QK-norm.
    public var usesPostNorms: Bool { architecture == .gemma3 }
    public var usesQKNorm: Bool { architecture == .gemma3 || architecture == .qwen3 }
    public var usesGELU: Bool { architecture == .gemma3 }

    public init(gguf file: GGUFFile) throws {
        let m = file.metadata
        guard let archName = file.architecture else { throw ModelError.missingMetadata("general.architecture") }
        guard let arch = Architecture(rawValue: archName) else { throw ModelError.unsupportedArchitecture(archName) }
        architecture = arch
        func int(_ k: String) throws -> Int {
            guard let v = m.int("\(archName).\(k)") else { throw ModelError.missingMetadata("\(archName).\(k)") }
            guard v > 0, v < 1 << 24 else { throw ModelError.invalidMetadata(key: "\(archName).\(k)", value: String(v)) }
            return v
        }
        func optInt(_ k: String) -> Int? { m.int("\(archName).\(k)") }
        layerCount = try int("block_count")
        embeddingLength = try int("embedding_length")
        feedForwardLength = try int("feed_forward_length")
        headCount = try int("attention.head_count")
        kvHeadCount = optInt("attention.head_count_kv") ?? headCount
        guard kvHeadCount > 0, headCount % kvHeadCount == 0 else {
            throw ModelError.invalidMetadata(key: "\(archName).attention.head_count_kv", value: String(kvHeadCount))
        }
        headDim = optInt("attention.key_length") ?? embeddingLength / headCount
        valueDim = optInt("attention.value_length") ?? headDim
        guard valueDim == headDim else {
            throw ModelError.invalidMetadata(key: "\(archName).attention.value_length",
                                             value: "\(valueDim) (differs from key_length \(headDim); not supported yet)")
        }
        contextLength = optInt("context_length") ?? 2048
        rmsEps = m.float("\(archName).attention.layer_norm_rms_epsilon") ?? 1e-5
        ropeDim = optInt("rope.dimension_count") ?? headDim
        guard ropeDim <= headDim, ropeDim % 2 == 0 else {
            throw ModelError.invalidMetadata(key: "\(archName).rope.dimension_count", value: String(ropeDim))
        }
        let embdRows: Int
        if let t = file.tensor(named: "token_embd.weight"), t.dimensions.count == 2 { embdRows = t.dimensions[1] } else {
            throw ModelError.missingTensor("token_embd.weight")
        }
        vocabSize = m.int("\(archName).vocab_size") ?? embdRows

        var scale: Float = 1
        if m.string("\(archName).rope.scaling.type") == "linear", let f = m.float("\(archName).rope.scaling.factor"), f > 0 {
            scale = 1 / f
        }
        ropeFreqScale = scale

        switch arch {
        case .gemma3:
            ropeStyle = .neox
            ropeBase = m.float("gemma3.rope.freq_base") ?? 1_000_000
            // Not stated in the file; Gemma 3 uses 10,000 on its sliding-window layers.
            ropeBaseSliding = 10_000
            let window = optInt("attention.sliding_window") ?? 0
            slidingWindow = window
            // Every sixth layer (5, 11, 17, …) attends globally; the others use the window.
            isSlidingLayer = (0 ..< layerCount).map { window > 0 && $0 % 6 < 5 }
            attentionScale = 1 / Float(headDim).squareRoot()
            embeddingScale = Float(embeddingLength).squareRoot()
        case .llama, .mistral, .qwen2, .qwen3:
            ropeStyle = (arch == .qwen2 || arch == .qwen3) ? .neox : .normal
            ropeBase = m.float("\(archName).rope.freq_base") ?? 10_000
            ropeBaseSliding = ropeBase
            slidingWindow = 0
            isSlidingLayer = [Bool](repeating: false, count: layerCount)
            attentionScale = 1 / Float(headDim).squareRoot()
            embeddingScale = 1
        }
    }
}
