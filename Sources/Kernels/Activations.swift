import CKernels

/// out[i] = x[i] * sigmoid(x[i]). `out` may alias `x`.
public func silu(_ x: UnsafePointer<Float>, count: Int, out: UnsafeMutablePointer<Float>) {
    ck_activation(ck_active_isa(), 0, x, nil, Int32(count), out)
}

/// GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). `out` may alias `x`.
public func geluTanh(_ x: UnsafePointer<Float>, count: Int, out: UnsafeMutablePointer<Float>) {
    ck_activation(ck_active_isa(), 1, x, nil, Int32(count), out)
}

/// out[i] = silu(gate[i]) * up[i]. `out` may alias either input.
public func siluMul(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int, out: UnsafeMutablePointer<Float>) {
    ck_activation(ck_active_isa(), 0, gate, up, Int32(count), out)
}

/// out[i] = geluTanh(gate[i]) * up[i]. `out` may alias either input.
public func geluTanhMul(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int, out: UnsafeMutablePointer<Float>) {
    ck_activation(ck_active_isa(), 1, gate, up, Int32(count), out)
}

/// In-place numerically stable softmax over `count` values.
public func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
    ck_softmax(ck_active_isa(), x, Int32(count))
}

/// Index of the first largest value (NaN never wins; 0 when no value exceeds -infinity).
public func argmax(_ x: UnsafeBufferPointer<Float>) -> Int {
    guard let base = x.baseAddress, x.count > 0 else { return 0 }
    return ck_argmax(ck_active_isa(), base, x.count)
}

/// `argmax` at an explicit kernel level (capped to what the CPU supports); for tests.
public func argmax(_ x: UnsafeBufferPointer<Float>, level: KernelDispatch.Level) -> Int {
    guard let base = x.baseAddress, x.count > 0 else { return 0 }
    return ck_argmax(min(level, KernelDispatch.detected).rawValue, base, x.count)
}
