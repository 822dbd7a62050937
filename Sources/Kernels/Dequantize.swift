import CKernels

/// Dequantizes row `row` of `w` into `dst` (`w.cols` floats).
public func dequantizeRow(_ w: WeightMatrix, row: Int, into dst: UnsafeMutablePointer<Float>) {
    precondition(row >= 0 && row < w.rows, "row out of range")
    dequantize(w.type, w.row(row), dst, count: w.cols)
}

/// Dequantizes `count` elements (a multiple of the block size) of `type` from `src` into `dst`.
public func dequantize(_ type: QuantType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
    precondition(count % type.blockElements == 0, "count is not a multiple of the block size")
    let rc = ck_dequantize(Int32(type.rawValue), src, dst, count)
    precondition(rc == 0, "dequantize: unsupported type \(type)")
}
