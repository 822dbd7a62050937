import ArgumentParser
import Foundation
import Pagewise

struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch a model into the cache: a named model, hf.co/OWNER/REPO[:QUANT] or OWNER/REPO/FILE.gguf from Hugging Face.",
        discussion: """
        hf.co/OWNER/REPO picks the repository's GGUF of quantization Q4_K_M (or the one named after ':').
        Split models (-00001-of-0000N.gguf) are fetched shard by shard and merged into one GGUF.
        HF_TOKEN is sent for gated repositories; HF_ENDPOINT points at another Hub; PAGEWISE_CACHE moves the cache.
        An interrupted download resumes where it stopped.
        """
    )

    @Argument(help: "Model name (\(NamedModel.all.map(\.name).joined(separator: ", ")), hf.co/OWNER/REPO[:QUANT], OWNER/REPO/FILE.gguf).")
    var name: String = ModelStore.defaultModelName

    func run() throws {
        try reportingErrors {
            let store = ModelStore()
            let path: String
            if let m = NamedModel.named(name) {
                path = try store.ensure(m) { Stderr.print($0) }
            } else if let hub = HubModelName(name) {
                let view = DownloadProgressView()
                path = try store.pull(hub, log: { Stderr.print($0) }, progress: { view.show($0) })
            } else {
                throw ModelStoreError.unknownModel(name)
            }
            print(path)
        }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the models in the cache.")

    @Flag(name: .long, help: "One JSON object per model.") var json = false

    func run() throws {
        let models = ModelStore().localModels()
        if json {
            struct Row: Encodable { let name, path: String; let size: Int; let architecture, quantization: String? }
            for m in models { print(jsonLine(Row(name: m.name, path: m.path, size: m.size, architecture: m.architecture, quantization: m.quantization))) }
            return
        }
        let rows = [["NAME", "ARCHITECTURE", "QUANTIZATION", "SIZE", "PATH"]]
            + models.map { [$0.name, $0.architecture ?? "?", $0.quantization ?? "?", ByteFormat.string($0.size), $0.path] }
        let widths = (0 ..< 4).map { c in rows.map { $0[c].count }.max() ?? 0 }
        for r in rows {
            print((0 ..< 4).map { r[$0].padding(toLength: widths[$0] + 2, withPad: " ", startingAt: 0) }.joined() + r[4])
        }
    }
}

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete a model from the cache.")

    @Argument(help: "The name `pagewise list` shows.") var name: String

    func run() throws {
        try reportingErrors {
            for p in try ModelStore().remove(name) { Stderr.print("removed \(p)") }
        }
    }
}
