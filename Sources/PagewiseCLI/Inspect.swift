import ArgumentParser
import Foundation
import GGUF
import Models
import Pagewise

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Describe a GGUF model file.")

    @Argument(help: "A .gguf path or a model name.") var model: String
    @Flag(name: .long, help: "Also list every metadata key.") var metadata = false

    func run() throws {
        try reportingErrors {
            let path = try ModelStore().resolve(model) { Stderr.print($0) }
            let f = try GGUFFile(path: path)
            print("file:          \(path)")
            print("gguf version:  \(f.version), \(f.fileSize) bytes, alignment \(f.alignment)")
            print("architecture:  \(f.architecture ?? "(none)")")
            if let name = f.metadata.string("general.name") { print("name:          \(name)") }
            do {
                let c = try ModelConfig(gguf: f)
                print("layers:        \(c.layerCount)")
                print("embedding:     \(c.embeddingLength), feed-forward \(c.feedForwardLength)")
                print("heads:         \(c.headCount) query, \(c.kvHeadCount) key/value, head dim \(c.headDim) (value \(c.valueDim))")
                print("vocab:         \(c.vocabSize), context \(c.contextLength)")
                print("rope:          \(c.ropeStyle == .neox ? "neox" : "normal"), dim \(c.ropeDim), base \(c.ropeBase)"
                    + (c.slidingWindow > 0 ? ", sliding layers base \(c.ropeBaseSliding), window \(c.slidingWindow) (\(c.isSlidingLayer.filter { $0 }.count) of \(c.layerCount) layers)" : ""))
                print("rms eps:       \(c.rmsEps)")
                print("kv cache:      " + KVCacheDType.allCases.filter { $0.supports(c) }.map { "\(KVCacheStorage.bytesPerToken(c, dtype: $0)) bytes/token (\($0.name))" }
                    .joined(separator: ", "))
            } catch {
                print("model:         not runnable: \(error)")
            }
            let tk = f.metadata.string("tokenizer.ggml.model") ?? "(none)"
            let pre = f.metadata.string("tokenizer.ggml.pre").map { ", pre \($0)" } ?? ""
            let nTok = f.metadata["tokenizer.ggml.tokens"]?.arrayValue?.count ?? 0
            print("tokenizer:     \(tk)\(pre), \(nTok) tokens, chat template: \(f.metadata.string("tokenizer.chat_template") == nil ? "no" : "yes")")
            var byType: [String: (Int, Int)] = [:]
            for t in f.tensors { byType[t.type.name, default: (0, 0)].0 += 1; byType[t.type.name, default: (0, 0)].1 += t.byteCount }
            print("tensors:       \(f.tensors.count), \(f.tensors.reduce(0) { $0 + $1.byteCount }) bytes")
            for (name, (count, bytes)) in byType.sorted(by: { $0.value.1 > $1.value.1 }) {
                print("  \(name.padding(toLength: 6, withPad: " ", startingAt: 0)) \(String(count).leftPad(4)) tensors \(String(format: "%10.1f", Double(bytes) / 1_048_576)) MiB")
            }
            if metadata {
                for k in f.metadata.keys { print("  \(k) = \(f.metadata[k]!.summary)") }
            }
        }
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
