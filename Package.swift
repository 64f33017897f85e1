// swift-tools-version:6.2
import PackageDescription

/// Settings every Swift target shares: Swift 6 mode comes from the tools version; these add
/// the upcoming features the conventions ask for.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "weft",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "weftd", targets: ["weftd"]),
        .executable(name: "weft", targets: ["weft"]),
        .executable(name: "weft-cni", targets: ["weft-cni"]),
        .executable(name: "weft-docker-plugin", targets: ["weft-docker-plugin"]),
        // For the fuzz package in Fuzz/.
        .library(name: "WeftMeshFuzzing", targets: ["WeftMeshFuzzing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // C libraries, one shim each; exactly one Swift module imports each of them (CLinux:
        // the libc and kernel declarations Swift's Glibc lacks, for WeftSystem).
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CPcap", providers: [.apt(["libpcap-dev"])]),
        .systemLibrary(name: "CMnl", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),
        .systemLibrary(name: "CNftables", pkgConfig: "libnftables", providers: [.apt(["libnftables-dev"])]),

        // Plain value types every other module and the CLI share; depends on nothing.
        .target(name: "WeftTypes", swiftSettings: swiftSettings),
        // The one helper for direct system calls (EINTR, errno with what was attempted).
        .systemLibrary(name: "CLinux"),
        .target(name: "WeftSystem", dependencies: ["CLinux"], swiftSettings: swiftSettings),
        // The local API's contract: the JSON bodies, the paths, and a small blocking client.
        .target(name: "WeftAPI", dependencies: ["WeftSystem"], swiftSettings: swiftSettings),
        .target(name: "WeftCrypto", dependencies: ["CSodium"], swiftSettings: swiftSettings),
        .target(
            name: "WeftMesh",
            dependencies: [
                "WeftTypes", "WeftCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WeftIPAM",
            dependencies: [
                "WeftTypes", "WeftMesh",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WeftDNS",
            dependencies: [
                "WeftTypes", "WeftMesh",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "WeftNetlink", dependencies: ["CMnl", "WeftSystem"], swiftSettings: swiftSettings),
        .target(
            name: "WeftDataPath",
            dependencies: [
                "CPcap", "CNftables", "WeftTypes", "WeftSystem", "WeftMesh", "WeftCrypto", "WeftNetlink",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WeftOptions",
            dependencies: ["WeftTypes", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings
        ),
        // The HTTP/1.1 server the router's API and the Docker plugin share.
        .target(
            name: "WeftHTTPServer",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WeftRouter",
            dependencies: [
                "WeftTypes", "WeftAPI", "WeftHTTPServer", "WeftSystem", "WeftMesh", "WeftCrypto", "WeftOptions", "WeftIPAM", "WeftDNS", "WeftNetlink", "WeftDataPath",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "weftd",
            dependencies: [
                "WeftRouter", "WeftOptions", "WeftSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "weft",
            dependencies: [
                "WeftTypes", "WeftAPI", "WeftOptions", "WeftSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // The CNI plugin: codecs and commands (WeftCNI), and its executable, which
        // `weft setup-cni` installs as `weft` in the CNI bin directory.
        .target(name: "WeftCNI", dependencies: ["WeftTypes", "WeftAPI", "WeftSystem"], swiftSettings: swiftSettings),
        .executableTarget(name: "weft-cni", dependencies: ["WeftCNI", "WeftSystem"], swiftSettings: swiftSettings),
        // The Docker network and IPAM driver: the protocol (WeftDocker) and its server.
        .target(name: "WeftDocker", dependencies: ["WeftTypes", "WeftAPI"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "weft-docker-plugin",
            dependencies: [
                "WeftDocker", "WeftAPI", "WeftHTTPServer", "WeftSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WeftTesting",
            dependencies: [
                "WeftTypes", "WeftMesh",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WeftMeshFuzzing",
            dependencies: ["WeftTypes", "WeftMesh", "WeftIPAM", "WeftDNS", "WeftDataPath", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "weft-gossip-sim",
            dependencies: ["WeftTypes", "WeftMesh", "WeftTesting", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WeftIPAMTests",
            dependencies: ["WeftIPAM", "WeftTypes", "WeftMesh", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WeftDNSTests",
            dependencies: ["WeftDNS", "WeftTypes", "WeftMesh", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WeftDataPathTests",
            dependencies: ["WeftDataPath", "WeftTypes", "WeftMesh", "WeftCrypto", "WeftNetlink"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WeftNetlinkTests",
            dependencies: ["WeftNetlink", "WeftSystem"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "WeftTypesTests", dependencies: ["WeftTypes"], swiftSettings: swiftSettings),
        .testTarget(name: "WeftOptionsTests", dependencies: ["WeftOptions", "WeftTypes"], swiftSettings: swiftSettings),
        .testTarget(name: "WeftAPITests", dependencies: ["WeftAPI"], swiftSettings: swiftSettings),
        .testTarget(name: "WeftCNITests", dependencies: ["WeftCNI", "WeftAPI"], swiftSettings: swiftSettings),
        .testTarget(name: "WeftDockerTests", dependencies: ["WeftDocker", "WeftAPI"], swiftSettings: swiftSettings),
        .testTarget(
            name: "WeftRouterTests",
            dependencies: [
                "WeftRouter", "WeftAPI", "WeftOptions", "WeftDataPath", "WeftMesh", "WeftTypes",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WeftCryptoTests",
            dependencies: ["WeftCrypto"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WeftMeshTests",
            dependencies: [
                "WeftTypes", "WeftMesh", "WeftTesting", "WeftCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
