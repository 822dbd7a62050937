import Testing
import Kernels

@Suite struct DequantizeTests {
    @Test(arguments: Fixture.all.map(\.name))
    func dequantizeMatchesGGUF(name: String) {
        let f = Fixture.named(name)
        #expect(f.raw.count == f.type.rowBytes(f.cols) * f.rows)
        var out = [Float](repeating: .nan, count: f.rows * f.cols)
        f.raw.withUnsafeBytes { buf in
            out.withUnsafeMutableBufferPointer { o in
                dequantize(f.type, buf.baseAddress!, o.baseAddress!, count: f.rows * f.cols)
            }
        }
        // Same float formulas as gguf-py, evaluated in float32: bitwise equal.
        var mismatches = 0
        for i in 0..<out.count where out[i].bitPattern != f.expected[i].bitPattern { mismatches += 1 }
        #expect(mismatches == 0, "\(name): \(mismatches) values differ")

        // dequantizeRow agrees with whole-buffer dequantize.
        f.withMatrix { w in
            var row = [Float](repeating: 0, count: f.cols)
            let r = f.rows - 1
            row.withUnsafeMutableBufferPointer { dequantizeRow(w, row: r, into: $0.baseAddress!) }
            #expect(Array(out[(r * f.cols)..<((r + 1) * f.cols)]) == row)
        }
    }

    @Test func blockGeometry() {
        #expect(QuantType.q4_0.blockBytes == 18 && QuantType.q4_0.blockElements == 32)
        #expect(QuantType.q4_1.blockBytes == 20)
        #expect(QuantType.q5_0.blockBytes == 22)
        #expect(QuantType.q5_1.blockBytes == 24)
        #expect(QuantType.q8_0.blockBytes == 34)
        #expect(QuantType.q2_K.blockBytes == 84 && QuantType.q2_K.blockElements == 256)
        #expect(QuantType.q3_K.blockBytes == 110)
        #expect(QuantType.q4_K.blockBytes == 144)
        #expect(QuantType.q5_K.blockBytes == 176)
        #expect(QuantType.q6_K.blockBytes == 210)
        #expect(QuantType.q8_K.blockBytes == 292)
        #expect(QuantType.bf16.rowBytes(10) == 20)
        #expect(QuantType.q4_K.rowBytes(512) == 288)
    }
}
