import GGUF
import Kernels

/// A norm or bias vector as F32, pointing into the mapped file when stored as F32, else converted once.
public struct FloatVector: @unchecked Sendable {
    public let pointer: UnsafePointer<Float>
    public let count: Int
    private let owner: AnyObject?

    init(file: GGUFFile, name: String, count: Int) throws {
        guard let t = file.tensor(named: name) else { throw ModelError.missingTensor(name) }
        guard t.elementCount == count else { throw ModelError.badTensorShape(name: name, expected: [count], actual: t.dimensions) }
        self.count = count
        if t.type == .f32 {
            pointer = file.data(of: t).assumingMemoryBound(to: Float.self)
            owner = nil
        } else {
            guard let q = QuantType(rawValue: t.type.rawValue), q.isSupportedForCompute else {
                throw ModelError.unsupportedTensorType(name: name, type: t.type.name)
            }
            let buffer = FloatBuffer(count: count)
            dequantize(q, file.data(of: t), buffer.pointer, count: count)
            pointer = UnsafePointer(buffer.pointer)
            owner = buffer
        }
    }
}

/// Owned float storage that frees itself.
final class FloatBuffer {
    let pointer: UnsafeMutablePointer<Float>
    init(count: Int) {
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }
    deinit { pointer.deallocate() }
}

/// Weights of one transformer block, bound to the mapped file.
public struct LayerWeights: Sendable {
    public let attnNorm: FloatVector
    public let wq, wk, wv, wo: WeightMatrix
    public let bq, bk, bv: FloatVector?
    public let qNorm, kNorm: FloatVector?
    public let postAttnNorm: FloatVector?
    public let ffnNorm: FloatVector
    public let wGate, wUp, wDown: WeightMatrix
    public let postFFNNorm: FloatVector?
}

/// All weights of a model. Matrices stay quantized in the memory-mapped file.
public struct ModelWeights: Sendable {
    public let tokenEmbedding: WeightMatrix
    public let layers: [LayerWeights]
    public let outputNorm: FloatVector
    /// The output projection (the token embedding when tied).
    public let output: WeightMatrix
    /// Llama 3 RoPE frequency factors (`rope_freqs.weight`), if present.
    public let ropeFreqFactors: [Float]?

    init(file: GGUFFile, config c: ModelConfig) throws {
        func matrix(_ name: String, rows: Int, cols: Int) throws -> WeightMatrix {
            guard let t = file.tensor(named: name) else { throw ModelError.missingTensor(name) }
            guard t.dimensions == [cols, rows] || (rows == 1 && t.dimensions == [cols]) else {
                throw ModelError.badTensorShape(name: name, expected: [cols, rows], actual: t.dimensions)
            }
            guard let q = QuantType(rawValue: t.type.rawValue), q.isSupportedForCompute else {
                throw ModelError.unsupportedTensorType(name: name, type: t.type.name)
            }
            let m = WeightMatrix(data: file.data(of: t), type: q, rows: rows, cols: cols).withInterleavedCopy()
            // The kernels read the copy; the file's pages (embedding lookups excepted, which
            // fault single rows back in) are not needed in memory any more.
            if m.interleaved != nil { file.releasePages(of: t) }
            return m
        }
        func vector(_ name: String, _ n: Int) throws -> FloatVector { try FloatVector(file: file, name: name, count: n) }
        func optionalVector(_ name: String, _ n: Int) throws -> FloatVector? {
            file.tensor(named: name) == nil ? nil : try vector(name, n)
        }

        let d = c.embeddingLength
        let qDim = c.headCount * c.headDim
        let kDim = c.kvHeadCount * c.headDim
        let vDim = c.kvHeadCount * c.valueDim
        tokenEmbedding = try matrix("token_embd.weight", rows: c.vocabSize, cols: d)
        var layers: [LayerWeights] = []
        for i in 0 ..< c.layerCount {
            let p = "blk.\(i)."
            let hasPost = c.usesPostNorms
            layers.append(LayerWeights(
                attnNorm: try vector(p + "attn_norm.weight", d),
                wq: try matrix(p + "attn_q.weight", rows: qDim, cols: d),
                wk: try matrix(p + "attn_k.weight", rows: kDim, cols: d),
                wv: try matrix(p + "attn_v.weight", rows: vDim, cols: d),
                wo: try matrix(p + "attn_output.weight", rows: d, cols: c.headCount * c.valueDim),
                bq: try optionalVector(p + "attn_q.bias", qDim),
                bk: try optionalVector(p + "attn_k.bias", kDim),
                bv: try optionalVector(p + "attn_v.bias", vDim),
                qNorm: c.usesQKNorm ? try vector(p + "attn_q_norm.weight", c.headDim) : nil,
                kNorm: c.usesQKNorm ? try vector(p + "attn_k_norm.weight", c.headDim) : nil,
                postAttnNorm: hasPost ? try vector(p + "post_attention_norm.weight", d) : nil,
                ffnNorm: try vector(p + "ffn_norm.weight", d),
                wGate: try matrix(p + "ffn_gate.weight", rows: c.feedForwardLength, cols: d),
                wUp: try matrix(p + "ffn_up.weight", rows: c.feedForwardLength, cols: d),
                wDown: try matrix(p + "ffn_down.weight", rows: d, cols: c.feedForwardLength),
                postFFNNorm: hasPost ? try vector(p + "post_ffw_norm.weight", d) : nil
            ))
        }
        self.layers = layers
        outputNorm = try vector("output_norm.weight", d)
        output = file.tensor(named: "output.weight") != nil
            ? try matrix("output.weight", rows: c.vocabSize, cols: d)
            : tokenEmbedding
        if let t = file.tensor(named: "rope_freqs.weight") {
            guard t.elementCount == c.ropeDim / 2 else {
                throw ModelError.badTensorShape(name: "rope_freqs.weight", expected: [c.ropeDim / 2], actual: t.dimensions)
            }
            let v = try vector("rope_freqs.weight", c.ropeDim / 2)
            ropeFreqFactors = Array(UnsafeBufferPointer(start: v.pointer, count: v.count))
        } else {
            ropeFreqFactors = nil
        }
    }
}
