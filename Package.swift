// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ktrdrd",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "KtrdrCore", targets: ["KtrdrCore"]),
        .executable(name: "ktrdrctl", targets: ["ktrdrctl"]),
        .executable(name: "ktrdr-bench", targets: ["ktrdr-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
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
        .executableTarget(
            name: "ktrdrctl",
            dependencies: [
                "KtrdrCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "ktrdr-bench",
            dependencies: [
                "KtrdrCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "KtrdrCoreTests",
            dependencies: ["KtrdrCore"],
            exclude: ["Fixtures"]
        ),
    ]
)
