import ArgumentParser
import Foundation
import Models
import Pagewise

@main
struct PagewiseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pagewise",
        abstract: "Run and serve GGUF language models.",
        subcommands: [Generate.self, Chat.self, Serve.self, Template.self, Tokenize.self, Inspect.self, Pull.self, List.self, Remove.self,
                      Perplexity.self, Bench.self, Plan.self],
        defaultSubcommand: Generate.self
    )
}

/// Options every model-running subcommand shares.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "A .gguf path, a model name (\(NamedModel.all.map(\.name).joined(separator: ", "))), or hf.co/OWNER/REPO[:QUANT] / OWNER/REPO/FILE.gguf (pulled on first use).")
    var model: String = ModelStore.defaultModelName

    @Option(name: .long, help: "Kernel worker threads (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard threads >= 1, threads <= 1024 else { throw ValidationError("--threads must be between 1 and 1024") }
    }

    /// Resolves the model (fetching a named one on first use), reporting progress on stderr.
    func resolvedPath() throws -> String {
        let view = DownloadProgressView()
        return try ModelStore().resolve(model, progress: { line in Stderr.print(line) }, transfer: { view.show($0) })
    }

    func session(context: Int? = nil, kvCacheDType: KVCacheDType = .default) throws -> InferenceSession {
        try InferenceSession(modelPath: resolvedPath(), threads: threads, contextLength: context, kvCacheDType: kvCacheDType)
    }
}

enum Stderr {
    static func print(_ s: String) {
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }
}

/// Prints a clear one-line error and exits 1 instead of a stack trace.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as ExitCode { throw e } catch let e as ValidationError { throw e } catch {
        Stderr.print("error: \(error)")
        throw ExitCode(1)
    }
}

func jsonLine<T: Encodable>(_ value: T) -> String {
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: (try? enc.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
}
