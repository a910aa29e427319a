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
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // Pure domain: data, indicators, fuzzy, strategies, execution, metrics, engine.
        // Foundation and Yams only; no I/O frameworks.
        .target(
            name: "KtrdrCore",
            dependencies: ["CKtrdrSupport", .product(name: "Yams", package: "Yams")]
        ),
        // libc tuning that Swift's Glibc module does not expose (mallopt).
        .target(name: "CKtrdrSupport"),
        // The system SQLite (Debian: libsqlite3-dev).
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // Operations: records, SQLite store, runner, progress bridge, cancellation.
        .target(
            name: "KtrdrOperations",
            dependencies: ["KtrdrCore", "CSQLite", .product(name: "Logging", package: "swift-log")]
        ),
        // Interfaces of the daemon: HTTP API (Hummingbird), control socket (SwiftNIO), metrics.
        .target(
            name: "KtrdrServer",
            dependencies: [
                "KtrdrOperations", "CKtrdrSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The client side of the control protocol and the HTTP API (used by ktrdrctl).
        .target(name: "KtrdrClient", dependencies: ["KtrdrCore", "KtrdrOperations"]),
        .executableTarget(
            name: "ktrdrd",
            dependencies: [
                "KtrdrServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "ktrdrctl",
            dependencies: [
                "KtrdrCore", "KtrdrClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "ktrdr-bench",
            dependencies: [
                "KtrdrCore", "KtrdrOperations",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "KtrdrCoreTests",
            dependencies: ["KtrdrCore"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "KtrdrOperationsTests",
            dependencies: ["KtrdrOperations"]
        ),
    ]
)
