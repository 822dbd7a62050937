import Testing
import Kernels

/// Float -> F16 conversion (the F16 KV cache's write path) against numpy's float32 -> float16
/// cast, and widening against Swift's own `Float16`.
@Suite struct Float16ConversionTests {
    /// (float32 bits, expected binary16 bits): numpy 2.4.6's `np.float32 -> np.float16` cast, as
    /// printed by `tools/venv/bin/python scripts/gen_f16_cases.py`.
    static let cases: [(UInt32, UInt16)] = [
        (0x00000000, 0x0000), // +0
        (0x80000000, 0x8000), // -0
        (0x3F800000, 0x3C00), // 1
        (0xBF800000, 0xBC00), // -1
        (0x477FE000, 0x7BFF), // max half 65504
        (0xC77FE000, 0xFBFF), // -65504
        (0x477FEFFF, 0x7BFF), // 65519.996 (below the tie: 65504)
        (0x477FF000, 0x7C00), // 65520 (tie: rounds to even 2^16, inf)
        (0xC77FF000, 0xFC00), // -65520
        (0x47800000, 0x7C00), // 65536
        (0x501502F9, 0x7C00), // 1e10
        (0x7F7FFFFF, 0x7C00), // float max
        (0x7F800000, 0x7C00), // +inf
        (0xFF800000, 0xFC00), // -inf
        (0x3F801000, 0x3C00), // 1 + 2^-11 (tie: down to even 1)
        (0x3F803000, 0x3C02), // 1 + 3*2^-11 (tie: up to even)
        (0x3F801001, 0x3C01), // 1 + 2^-11 + 2^-23 (above the tie)
        (0x3F800FFF, 0x3C00), // 1 + 2^-11 - 2^-23 (below the tie)
        (0x45001000, 0x6800), // 2049 (tie: 2048)
        (0x45003000, 0x6802), // 2051 (tie: 2052)
        (0xC5003000, 0xE802), // -2051
        (0x44FFF000, 0x6800), // 2047.5
        (0x457FF000, 0x6C00), // 4095 (tie: 4096, exponent carry)
        (0x3FFFF000, 0x4000), // 1.99951171875 (mantissa carry to 2)
        (0x38800000, 0x0400), // min normal 2^-14
        (0x387FE000, 0x0400), // 2^-14 - 2^-25 (tie: even 2^-14)
        (0x387FC000, 0x03FF), // max subnormal 1023 * 2^-24
        (0x33800000, 0x0001), // min subnormal 2^-24
        (0xB3800000, 0x8001), // -2^-24
        (0x33000000, 0x0000), // 2^-25 (tie: 0)
        (0xB3000000, 0x8000), // -2^-25 (tie: -0)
        (0x33000001, 0x0001), // 2^-25 + ulp (rounds up to 2^-24)
        (0x33C00000, 0x0002), // 3 * 2^-25 (tie: 2 * 2^-24)
        (0x34200000, 0x0002), // 5 * 2^-25 (tie: 2 * 2^-24)
        (0x32800000, 0x0000), // 2^-26
        (0x00000001, 0x0000), // float subnormal
        (0x80000001, 0x8000), // -float subnormal
        (0x00800000, 0x0000), // min normal float
        (0x3DCCCCCD, 0x2E66), // 0.1
        (0xC0490FD0, 0xC248), // -3.14159
        (0x3727C5AC, 0x00A8), // 1e-5
        (0x3380D959, 0x0001), // 6e-8
        (0x42F6E979, 0x57B7), // 123.456
        (0x7FC00000, 0x7E00), // quiet NaN
        (0xFFC00000, 0xFE00), // -quiet NaN
        (0x7FC02000, 0x7E01), // quiet NaN with payload
        (0x7FC00001, 0x7E00), // quiet NaN, low payload
    ]

    static let levels = [KernelDispatch.Level.portable, .avx2, .avx512].filter { $0 <= KernelDispatch.detected }

    @Test func roundsLikeNumpy() {
        let src = Self.cases.map { Float(bitPattern: $0.0) }
        for level in Self.levels {
            // All at once (vector bodies and a masked tail) and one at a time (scalar tails).
            var all = [UInt16](repeating: 0xDEAD, count: src.count)
            convertToF16(src, &all, count: src.count, level: level)
            for (i, c) in Self.cases.enumerated() {
                var one: UInt16 = 0xDEAD
                convertToF16([src[i]], &one, count: 1, level: level)
                #expect(all[i] == c.1 && one == c.1, "\(level): 0x\(String(c.0, radix: 16)) -> 0x\(String(all[i], radix: 16)), numpy 0x\(String(c.1, radix: 16))")
            }
        }
    }

    /// Signalling NaNs: numpy keeps them signalling, F16C quiets them (sign and top payload bits
    /// kept); every level follows the hardware.
    @Test(.enabled(if: KernelDispatch.detected >= .avx2))
    func signallingNaNsAreQuietedAsF16CDoes() {
        let src: [UInt32] = [0x7F800001, 0xFF800001, 0x7F802000, 0x7FA00000, 0xFFBFFFFF]
        var hardware = [UInt16](repeating: 0, count: src.count)
        convertToF16(src.map { Float(bitPattern: $0) }, &hardware, count: src.count, level: .avx2)
        #expect(hardware == [0x7E00, 0xFE00, 0x7E01, 0x7F00, 0xFFFF])
        for level in Self.levels {
            var ours = [UInt16](repeating: 0, count: src.count)
            convertToF16(src.map { Float(bitPattern: $0) }, &ours, count: src.count, level: level)
            #expect(ours == hardware, "\(level)")
        }
    }

#if !(os(macOS) && arch(x86_64))
    /// Widening every non-NaN half is exact (Swift's `Float16` as the reference), and narrowing
    /// the result gives the half back.
    @Test func widensEveryHalfExactly() {
        let halves = (0 ... 0xFFFF).map { UInt16($0) }.filter { !Float16(bitPattern: $0).isNaN }
        for level in Self.levels {
            var wide = [Float](repeating: 0, count: halves.count)
            convertFromF16(halves, &wide, count: halves.count, level: level)
            var back = [UInt16](repeating: 0, count: halves.count)
            convertToF16(wide, &back, count: wide.count, level: level)
            var wrong = 0
            for i in halves.indices where wide[i].bitPattern != Float(Float16(bitPattern: halves[i])).bitPattern || back[i] != halves[i] {
                wrong += 1
            }
            #expect(wrong == 0, "\(level)")
        }
    }
#endif
}
