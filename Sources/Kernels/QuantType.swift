import CKernels

/// ggml tensor element types, numbered as in GGUF files.
public enum QuantType: UInt32, Sendable, CaseIterable {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15, bf16 = 30

    /// Elements per block (1 for float types).
    public var blockElements: Int { Int(ck_block_elems(Int32(rawValue))) }
    /// Bytes per block (ggml block struct size).
    public var blockBytes: Int { Int(ck_block_bytes(Int32(rawValue))) }
    /// Bytes of one row of `cols` elements (`cols` must be a multiple of `blockElements`).
    public func rowBytes(_ cols: Int) -> Int { cols / blockElements * blockBytes }
    /// Whether `matmul` accepts weights of this type. Q2_K/Q3_K go through a slower
    /// dequantize-then-float path; Q8_1/Q8_K are activation formats only.
    public var isSupportedForCompute: Bool {
        switch self {
        case .q8_1, .q8_K: return false
        default: return true
        }
    }
    /// Whether `matmul` has an integer (quantized-activation) kernel for this type.
    public var hasIntegerKernel: Bool { ck_type_act_block(Int32(rawValue)) != 0 }
}
