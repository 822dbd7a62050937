/// RMS normalization: out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i] (weight nil = 1).
/// `out` may alias `x`. The sum of squares uses 8 lanes in a fixed order.
public func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?, count: Int, eps: Float,
                    _ out: UnsafeMutablePointer<Float>) {
    guard count > 0 else { return }
    var acc = SIMD8<Float>(repeating: 0)
    var i = 0
    let raw = UnsafeRawPointer(x)
    while i + 8 <= count {
        let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        acc += v * v
        i += 8
    }
    var sum = acc.sum()
    while i < count { sum += x[i] * x[i]; i += 1 }
    let scale = 1 / (sum / Float(count) + eps).squareRoot()
    if let weight {
        for j in 0..<count { out[j] = x[j] * scale * weight[j] }
    } else {
        for j in 0..<count { out[j] = x[j] * scale }
    }
}
