#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How rotary dimensions are paired.
public enum RoPEStyle: Sendable {
    /// Pairs (2i, 2i+1): Llama.
    case normal
    /// Pairs (i, i + ropeDim/2): GPT-NeoX layout, used by Gemma, Qwen 2/3.
    case neox
}

/// Rotary position embedding. Frequency i (i < ropeDim/2) is
/// theta_i = freqScale * base^(-2i/ropeDim) / freqFactors[i]; the angle at position p is p * theta_i.
public struct RoPE: Sendable {
    public let headDim: Int
    public let ropeDim: Int
    public let style: RoPEStyle
    private let theta: [Double]

    public init(headDim: Int, ropeDim: Int, base: Float, style: RoPEStyle, freqFactors: [Float]? = nil, freqScale: Float = 1) {
        precondition(ropeDim <= headDim && ropeDim % 2 == 0, "RoPE: ropeDim must be even and <= headDim")
        self.headDim = headDim
        self.ropeDim = ropeDim
        self.style = style
        let half = ropeDim / 2
        var t = [Double](repeating: 0, count: half)
        for i in 0..<half {
            var v = Double(freqScale) * pow(Double(base), -2.0 * Double(i) / Double(ropeDim))
            if let f = freqFactors, i < f.count { v /= Double(f[i]) }
            t[i] = v
        }
        theta = t
    }

    /// The (cos, sin) pair of every rotary frequency at `position`, interleaved: `ropeDim` floats.
    /// Compute once per token and reuse for queries, keys and every layer with the same RoPE.
    public func angles(position: Int, into cs: UnsafeMutablePointer<Float>) {
        for i in 0..<ropeDim / 2 {
            let a = Double(position) * theta[i]
            cs[2 * i] = Float(cos(a))
            cs[2 * i + 1] = Float(sin(a))
        }
    }

    /// Rotates the first `ropeDim` dims of each of `heads` heads (x = heads*headDim floats) by
    /// angles from `angles(position:into:)`.
    public func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, angles cs: UnsafePointer<Float>) {
        Self.apply(x, heads: heads, headDim: headDim, ropeDim: ropeDim, neox: style == .neox, angles: cs)
    }

    /// `apply` from the shape alone (no instance: hot loops on several threads touch nothing
    /// reference-counted).
    @inline(__always)
    public static func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, ropeDim: Int, neox: Bool,
                             angles cs: UnsafePointer<Float>) {
        let half = ropeDim / 2
        // One plain loop per style (no per-element branch), which the compiler vectorizes; the
        // arithmetic per element is the same either way.
        switch neox ? RoPEStyle.neox : .normal {
        case .normal:
            for h in 0..<heads {
                let p = x + h * headDim
                for i in 0..<half {
                    let c = cs[2 * i], s = cs[2 * i + 1]
                    let x0 = p[2 * i], x1 = p[2 * i + 1]
                    p[2 * i] = x0 * c - x1 * s
                    p[2 * i + 1] = x0 * s + x1 * c
                }
            }
        case .neox:
            for h in 0..<heads {
                let p = x + h * headDim
                for i in 0..<half {
                    let c = cs[2 * i], s = cs[2 * i + 1]
                    let x0 = p[i], x1 = p[i + half]
                    p[i] = x0 * c - x1 * s
                    p[i + half] = x0 * s + x1 * c
                }
            }
        }
    }

    /// Rotates the first `ropeDim` dims of each of `heads` heads (x = heads*headDim floats) for `position`.
    public func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: ropeDim) { cs in
            guard let base = cs.baseAddress else { return }
            angles(position: position, into: base)
            apply(x, heads: heads, angles: base)
        }
    }
}
