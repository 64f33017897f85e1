// swift-tools-version:6.2
// Fuzz targets, apart from the main package (a fuzzer's main breaks `swift test`'s link).
// Build and run: testnet/fuzz.sh [SECONDS]
import Foundation
import PackageDescription

/// A path dependency is named after its folder, which is wherever the repository was cloned.
let weft = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "weft-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "FuzzMeshDecoders",
            dependencies: [.product(name: "WeftMeshFuzzing", package: weft)]
        )
    ]
)
