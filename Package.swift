// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ktrdrd",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "KtrdrCore", targets: ["KtrdrCore"]),
        .executable(name: "ktrdrd", targets: ["ktrdrd"]),
        .executable(name: "ktrdrctl", targets: ["ktrdrctl"]),
        .executable(name: "ktrdr-bench", targets: ["ktrdr-bench"]),
        // Plugins: shared libraries the daemon dlopens from its plugins directory.
        .library(name: "ktrdr_plugin_sma_crossover", type: .dynamic, targets: ["SMACrossoverPlugin"]),
        .library(name: "ktrdr_plugin_rsi_mean_reversion", type: .dynamic, targets: ["RSIMeanReversionPlugin"]),
        .library(name: "ktrdr_plugin_neuro", type: .dynamic, targets: ["NeuroPlugin"]),
        .library(name: "ktrdr_plugin_torch", type: .dynamic, targets: ["TorchPlugin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
    ],
    targets: [
        // Pure domain: data, indicators, fuzzy, strategies, execution, metrics, engine.
        // Foundation and Yams only; no file I/O, no process-wide state (see KtrdrFiles).
        .target(
            name: "KtrdrCore",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        // The file-system side of the core: reading data and strategy files, writing generated
        // data, and the process-wide allocator tuning.
        .target(name: "KtrdrFiles", dependencies: ["KtrdrCore", "CKtrdrSupport"]),
        // libc tuning that Swift's Glibc module does not expose (mallopt).
        .target(name: "CKtrdrSupport"),
        // The wire model: records, requests, responses, errors with their codes. Server and
        // client share it; it depends on the core only (no SQLite, no dlopen, no crypto).
        .target(name: "KtrdrAPI", dependencies: ["KtrdrCore"]),
        // Default directories (and their environment variables) for the executables.
        .target(name: "KtrdrDefaults"),
        // The system SQLite (Debian: libsqlite3-dev).
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // The system zstd (Debian: libzstd-dev): result files.
        .systemLibrary(name: "CZstd", providers: [.apt(["libzstd-dev"])]),
        // The plugin C ABI (ktrdr_plugin.h): the only thing host and plugins share.
        .target(name: "KtrdrPluginABI"),
        // For plugin authors: wraps a Swift SignalStrategy into the C descriptor.
        .target(name: "KtrdrPluginKit", dependencies: ["KtrdrCore", "KtrdrPluginABI"]),
        // The strategies that ship as plugins (also compiled in by benchmarks and tests).
        .target(name: "KtrdrStrategies", dependencies: ["KtrdrCore"]),
        // Host side: dlopen, checks, hot reload, models directory, training pipeline.
        .target(
            name: "KtrdrPlugins",
            dependencies: ["KtrdrCore", "KtrdrFiles", "KtrdrAPI", "KtrdrPluginABI", .product(name: "Logging", package: "swift-log"),
                           .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Operations: records, SQLite store, runner, progress bridge, cancellation.
        .target(
            name: "KtrdrOperations",
            dependencies: ["KtrdrCore", "KtrdrFiles", "KtrdrAPI", "KtrdrPlugins", "KtrdrClient", "CSQLite", "CZstd", "CKtrdrSupport",
                           .product(name: "Logging", package: "swift-log")]
        ),
        // Strategy plugins. `-z nodelete`: Swift code must never be unmapped (see PluginHost).
        .target(name: "SMACrossoverPlugin", dependencies: ["KtrdrPluginKit", "KtrdrStrategies"], path: "Plugins/SMACrossover",
                linkerSettings: pluginLinkerSettings),
        .target(name: "RSIMeanReversionPlugin", dependencies: ["KtrdrPluginKit", "KtrdrStrategies"], path: "Plugins/RSIMeanReversion",
                linkerSettings: pluginLinkerSettings),
        .target(name: "NeuroPlugin", dependencies: ["KtrdrPluginKit", "KtrdrStrategies"], path: "Plugins/Neuro",
                linkerSettings: pluginLinkerSettings),
        // The model plugin: C++ over Debian's libtorch-dev behind a pure C header. Nothing else links libtorch.
        .target(
            name: "TorchPlugin",
            dependencies: ["KtrdrPluginABI"],
            path: "Plugins/Torch",
            cxxSettings: [.unsafeFlags(["-I/usr/include/torch/csrc/api/include"])],
            linkerSettings: [.linkedLibrary("torch"), .linkedLibrary("torch_cpu"), .linkedLibrary("c10")] + pluginLinkerSettings
        ),
        // Interfaces of the daemon: HTTP API (Hummingbird), control socket (SwiftNIO), metrics.
        .target(
            name: "KtrdrServer",
            dependencies: [
                "KtrdrAPI", "KtrdrFiles", "KtrdrOperations", "CKtrdrSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The client side of the control protocol and the HTTP API (used by ktrdrctl).
        .target(name: "KtrdrClient", dependencies: ["KtrdrCore", "KtrdrAPI", "CKtrdrSupport",
                                                    .product(name: "NIOCore", package: "swift-nio"),
                                                    .product(name: "NIOPosix", package: "swift-nio"),
                                                    .product(name: "NIOHTTP1", package: "swift-nio")]),
        .executableTarget(
            name: "ktrdrd",
            dependencies: [
                "KtrdrServer", "KtrdrAPI", "KtrdrFiles", "KtrdrPlugins", "KtrdrOperations", "KtrdrDefaults",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "ktrdrctl",
            dependencies: [
                "KtrdrCore", "KtrdrFiles", "KtrdrAPI", "KtrdrClient", "KtrdrPlugins", "KtrdrOperations", "KtrdrDefaults",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "ktrdr-bench",
            dependencies: [
                "KtrdrCore", "KtrdrFiles", "KtrdrAPI", "KtrdrOperations", "KtrdrStrategies", "KtrdrPlugins", "KtrdrDefaults",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Repository and built-plugin discovery, shared by the test targets.
        .target(name: "KtrdrTestSupport", path: "Tests/KtrdrTestSupport"),
        .testTarget(
            name: "KtrdrCoreTests",
            dependencies: ["KtrdrCore", "KtrdrFiles", "KtrdrStrategies", "KtrdrTestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "KtrdrPluginsTests", dependencies: ["KtrdrPlugins", "KtrdrPluginABI", "KtrdrAPI", "KtrdrCore", "KtrdrFiles", "KtrdrTestSupport"]),
        .testTarget(
            name: "KtrdrOperationsTests",
            dependencies: ["KtrdrOperations", "KtrdrAPI", "KtrdrFiles", "KtrdrPlugins", "KtrdrTestSupport"]
        ),
        .testTarget(
            name: "KtrdrServerTests",
            dependencies: ["KtrdrServer", "KtrdrAPI", "KtrdrClient", "KtrdrOperations", "KtrdrPlugins", "KtrdrTestSupport",
                           .product(name: "HummingbirdTesting", package: "hummingbird"),
                           .product(name: "NIOTestUtils", package: "swift-nio")]
        ),
    ],
    cxxLanguageStandard: .cxx17
)

/// Plugins are never unloaded (`-z nodelete`) and bind their own symbols first (`-Bsymbolic`),
/// so a plugin's copy of KtrdrCore is the one its code runs, whatever the host exports.
var pluginLinkerSettings: [LinkerSetting] {
    [.unsafeFlags(["-Xlinker", "-z", "-Xlinker", "nodelete", "-Xlinker", "-Bsymbolic"])]
}
