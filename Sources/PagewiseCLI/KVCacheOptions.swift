import ArgumentParser
import Models

/// `--kv-cache-dtype`, for the commands that build (or plan) a KV cache.
struct KVCacheOptions: ParsableArguments {
    @Option(name: .customLong("kv-cache-dtype"),
            help: ArgumentHelp("Element type of the KV cache: f16 (half the memory, and half the bytes attention reads), "
                + "q8_0 (ggml's 8-bit blocks, 34 bytes per 32 values; head dims must be multiples of 32) or f32.",
                               valueName: "f32|f16|q8_0"),
            transform: { text in
                guard let t = KVCacheDType(rawValue: text.lowercased()) else {
                    throw ValidationError("--kv-cache-dtype must be f32, f16 or q8_0 (got '\(text)')")
                }
                return t
            })
    var kvCacheDType: KVCacheDType = .default
}
