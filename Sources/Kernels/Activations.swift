import Foundation

/// out[i] = x[i] * sigmoid(x[i]). `out` may alias `x`.
public func silu(_ x: UnsafePointer<Float>, count: Int, out: UnsafeMutablePointer<Float>) {
    for i in 0..<count { let v = x[i]; out[i] = v / (1 + expf(-v)) }
}

@inline(__always) private func geluTanhScalar(_ v: Float) -> Float {
    let c: Float = 0.7978845608028654 // sqrt(2/pi)
    return 0.5 * v * (1 + tanhf(c * (v + 0.044715 * v * v * v)))
}

/// GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). `out` may alias `x`.
public func geluTanh(_ x: UnsafePointer<Float>, count: Int, out: UnsafeMutablePointer<Float>) {
    for i in 0..<count { out[i] = geluTanhScalar(x[i]) }
}

/// out[i] = silu(gate[i]) * up[i]. `out` may alias either input.
public func siluMul(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int, out: UnsafeMutablePointer<Float>) {
    for i in 0..<count { let g = gate[i]; out[i] = g / (1 + expf(-g)) * up[i] }
}

/// out[i] = geluTanh(gate[i]) * up[i]. `out` may alias either input.
public func geluTanhMul(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int, out: UnsafeMutablePointer<Float>) {
    for i in 0..<count { out[i] = geluTanhScalar(gate[i]) * up[i] }
}

/// In-place numerically stable softmax over `count` values.
public func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
    guard count > 0 else { return }
    var m = -Float.infinity
    for i in 0..<count { m = max(m, x[i]) }
    var sum: Float = 0
    for i in 0..<count { let e = expf(x[i] - m); x[i] = e; sum += e }
    let inv = 1 / sum
    for i in 0..<count { x[i] *= inv }
}
