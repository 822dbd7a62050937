// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Pagewise",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Pagewise", targets: ["Pagewise"]),
        .executable(name: "pagewise", targets: ["PagewiseCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .target(name: "GGUF"),
        // Per-ISA inner loops (AVX2 / AVX-512 VNNI) selected at run time; see Kernels/README in DESIGN.md.
        .target(name: "CKernels"),
        .target(name: "Kernels", dependencies: ["CKernels"]),
        .target(name: "Tokenization", dependencies: ["GGUF"]),
        // The Jinja interpreter for chat templates; imports nothing of ours.
        .target(name: "ChatTemplates"),
        .target(name: "Models", dependencies: ["GGUF", "Kernels"]),
        .target(name: "StructuredOutput", dependencies: ["Tokenization"]),
        .target(
            name: "Pagewise",
            dependencies: [
                "GGUF", "Kernels", "Tokenization", "Models", "StructuredOutput",
                "ChatTemplates", // pagewise chat's templates (ChatPromptTemplate)
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The OpenAI-compatible HTTP server (`pagewise serve`).
        .target(
            name: "PagewiseServer",
            dependencies: [
                "StructuredOutput",
                "Pagewise", "Tokenization", "GGUF", "Models", "ChatTemplates",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "PagewiseCLI",
            dependencies: [
                "Pagewise",
                "PagewiseServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Shared by the test targets that need the real models; not a product.
        .target(name: "TestSupport", dependencies: ["Pagewise"], path: "Tests/TestSupport"),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF", "Pagewise", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization", "GGUF", "Pagewise"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ChatTemplatesTests", dependencies: ["ChatTemplates"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PagewiseTests", dependencies: ["Pagewise", "TestSupport", "StructuredOutput"], resources: [.copy("Fixtures")]),
        .testTarget(name: "StructuredOutputTests", dependencies: ["StructuredOutput", "Tokenization", "GGUF"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "GGUF", "Kernels", "Tokenization", "Pagewise", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "PagewiseServerTests",
            dependencies: [
                "PagewiseServer", "Pagewise", "TestSupport", "GGUF", "Tokenization",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            resources: [.copy("Fixtures")]
        ),
    ]
)
