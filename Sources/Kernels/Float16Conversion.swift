import CKernels

/// Converts `count` floats to IEEE binary16 (F16) bit patterns, rounding to nearest even:
/// magnitudes from 65520 up become ±inf, values below 2^-14 become subnormal halves (below
/// 2^-25, and 2^-25 itself, a signed zero), ±0 keep their sign, and a NaN stays a NaN (sign and
/// top payload bits kept, quiet bit set). Every level gives the bits of F16C's `vcvtps2ph` with
/// rounding immediate 0; the portable level computes them in integer arithmetic.
public func convertToF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int,
                         level: KernelDispatch.Level = KernelDispatch.active) {
    precondition(count >= 0, "convertToF16: negative count")
    ck_f32_to_f16(min(level, KernelDispatch.detected).rawValue, src, dst, count)
}

/// Widens `count` IEEE binary16 bit patterns to floats (exact; a NaN stays a NaN).
public func convertFromF16(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int,
                           level: KernelDispatch.Level = KernelDispatch.active) {
    precondition(count >= 0, "convertFromF16: negative count")
    ck_f16_to_f32(min(level, KernelDispatch.detected).rawValue, src, dst, count)
}
