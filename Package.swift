// swift-tools-version:6.0
import PackageDescription

// Swift plugins are never unloaded (the Swift runtime cannot cope): mark them nodelete.
let residentPlugin: [LinkerSetting] = [.unsafeFlags(["-Xlinker", "-z", "-Xlinker", "nodelete"])]

let package = Package(
    name: "chassis",
    products: [
        .executable(name: "chassis", targets: ["chassis"]),
        // Plugins: one dynamic library each, loaded by name at run time.
        .library(name: "hello", type: .dynamic, targets: ["HelloPlugin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // The plugin ABI: one versioned C header.
        .target(name: "CChassis", path: "Sources/CChassis"),
        .systemLibrary(name: "CLTDL", path: "Sources/CLTDL"),

        // The host: loader, registry, lifecycle, options, logging. No networking.
        .target(
            name: "ChassisHost",
            dependencies: [
                "CChassis", "CLTDL",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "chassis",
            dependencies: [
                "ChassisHost",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Swift helpers for plugin authors over the C ABI.
        .target(name: "PluginKit", dependencies: ["CChassis"]),

        // Plugins.
        .target(name: "CHelloServices", path: "Plugins/Examples/CHelloServices"),
        .target(name: "HelloPlugin", dependencies: ["PluginKit", "CChassis", "CHelloServices"], path: "Plugins/Hello",
                linkerSettings: residentPlugin),

        .testTarget(name: "ChassisHostTests", dependencies: ["ChassisHost"]),
    ],
    swiftLanguageModes: [.v5]
)
