// swift-tools-version:6.0
// The libFuzzer target for MySQLWire, kept out of the main package so a normal build never
// sees it. Sources/MySQLWire here is a link to the library's own sources. Run Scripts/fuzz.
import PackageDescription

let package = Package(
    name: "FuzzWire",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
    ],
    targets: [
        .target(
            name: "MySQLWire",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "FuzzWire",
            dependencies: [
                "MySQLWire",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v5]
)
