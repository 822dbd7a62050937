import Foundation
import Kernels

/// One fixture written by scripts/gen_kernel_fixtures.py (expected values from gguf-py).
struct Fixture: Sendable {
    let name: String
    let type: QuantType
    let rows: Int
    let cols: Int
    let raw: [UInt8]
    let expected: [Float]

    static let all: [Fixture] = load()

    static func named(_ name: String) -> Fixture {
        guard let f = all.first(where: { $0.name == name }) else { fatalError("missing fixture \(name)") }
        return f
    }

    private struct Entry: Decodable { let name: String; let type: UInt32; let rows: Int; let cols: Int }

    private static func load() -> [Fixture] {
        guard let dir = Bundle.module.url(forResource: "Fixtures", withExtension: nil),
              let data = try? Data(contentsOf: dir.appendingPathComponent("manifest.json")),
              let entries = try? JSONDecoder().decode([Entry].self, from: data) else {
            fatalError("Kernels fixtures missing: run scripts/gen_kernel_fixtures.py")
        }
        return entries.map { e in
            let raw = [UInt8]((try? Data(contentsOf: dir.appendingPathComponent(e.name + ".bin"))) ?? Data())
            let f = (try? Data(contentsOf: dir.appendingPathComponent(e.name + ".f32"))) ?? Data()
            let expected = f.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            return Fixture(name: e.name, type: QuantType(rawValue: e.type)!, rows: e.rows, cols: e.cols,
                           raw: raw, expected: expected)
        }
    }

    /// Calls body with a WeightMatrix over a copy of the raw bytes.
    func withMatrix<R>(_ body: (WeightMatrix) -> R) -> R {
        raw.withUnsafeBytes { buf in
            body(WeightMatrix(data: buf.baseAddress!, type: type, rows: rows, cols: cols))
        }
    }
}

/// Small deterministic generator (SplitMix64) for test inputs.
struct TestRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(Double(next() >> 11) / Double(1 << 53) * 2 - 1) }
    mutating func floats(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in float() * scale } }
}
