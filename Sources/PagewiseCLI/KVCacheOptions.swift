import ArgumentParser
import Models

/// `--kv-cache-dtype`, for the commands that build (or plan) a KV cache.
struct KVCacheOptions: ParsableArguments {
    @Option(name: .customLong("kv-cache-dtype"),
            help: ArgumentHelp("Element type of the KV cache: f16 (half the memory, and half the bytes attention reads) or f32.",
                               valueName: "f32|f16"),
            transform: { text in
                guard let t = KVCacheDType(rawValue: text.lowercased()) else {
                    throw ValidationError("--kv-cache-dtype must be f32 or f16 (got '\(text)')")
                }
                return t
            })
    var kvCacheDType: KVCacheDType = .default
}
