// swift-tools-version:6.0
import PackageDescription

// Swift plugins are never unloaded (the Swift runtime cannot cope): mark them nodelete.
let residentPlugin: [LinkerSetting] = [.unsafeFlags(["-Xlinker", "-z", "-Xlinker", "nodelete"])]

// The per-query path: release builds skip the run-time exclusivity checks (about 2 % of the
// funnel's CPU in a profile); debug builds, which the tests use, keep them.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "chassis",
    products: [
        .executable(name: "chassis", targets: ["chassis"]),
        // Plugins: one dynamic library each, loaded by name at run time.
        .library(name: "hello", type: .dynamic, targets: ["HelloPlugin"]),
        .library(name: "stats", type: .dynamic, targets: ["StatsPlugin"]),
        .library(name: "funnel", type: .dynamic, targets: ["FunnelPlugin"]),
        .library(name: "admin", type: .dynamic, targets: ["AdminPlugin"]),
        .library(name: "lua", type: .dynamic, targets: ["LuaPlugin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.2.0"),
    ],
    targets: [
        // The plugin ABI: one versioned C header.
        .target(name: "CChassis", path: "Sources/CChassis"),
        .systemLibrary(name: "CLTDL", path: "Sources/CLTDL"),
        .systemLibrary(name: "CLinuxIO", path: "Sources/CLinuxIO"),

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

        // The MySQL protocol: framing, messages, auth, the command/response state machine.
        .target(
            name: "MySQLWire",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: hotPath
        ),
        // The pool and its backlog: a NIO-free state machine.
        .target(name: "Pooling", swiftSettings: hotPath),

        // Idle sockets parked in an epoll set of their own, outside any event loop.
        .target(name: "SocketParking", dependencies: [
            "CLinuxIO", .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),

        // SQL text: a tokenizer, and the digest normalizer (literals to ?).
        .target(name: "SQLText", swiftSettings: hotPath),

        .target(
            name: "StatsPlugin",
            dependencies: [
                "PluginKit", "CChassis", "SQLText",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Plugins/Stats",
            swiftSettings: hotPath,
            linkerSettings: residentPlugin),

        .target(
            name: "FunnelPlugin",
            dependencies: [
                "PluginKit", "CChassis", "MySQLWire", "Pooling", "SocketParking", "SQLText",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Plugins/Funnel",
            swiftSettings: hotPath,
            linkerSettings: residentPlugin),

        // admin's exported entry sits in a target of its own, so AdminTests can link AdminCore
        // next to another plugin's code without two definitions of chassis_plugin_entry.
        .target(
            name: "AdminCore",
            dependencies: [
                "PluginKit", "CChassis", "MySQLWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Plugins/Admin",
            exclude: ["Export"]),
        .target(name: "AdminPlugin", dependencies: ["AdminCore", "PluginKit", "CChassis"], path: "Plugins/Admin/Export",
                linkerSettings: residentPlugin),

        // lua: LuaJIT, the C glue that every Lua API call lives in (a Lua error must never unwind
        // through Swift), the Swift core (the scripting service), and the exported entry.
        .systemLibrary(name: "CLuaJIT", path: "Sources/CLuaJIT", pkgConfig: "luajit", providers: [.apt(["libluajit2-5.1-dev"])]),
        .target(name: "CLuaGlue", dependencies: ["CLuaJIT", "CChassis"], path: "Plugins/Lua/Glue", exclude: ["modules"]),
        .target(name: "LuaCore", dependencies: ["CLuaGlue", "PluginKit", "CChassis", "MySQLWire",
                                                .product(name: "NIOCore", package: "swift-nio")],
                path: "Plugins/Lua/Core", swiftSettings: hotPath),
        .target(name: "LuaPlugin", dependencies: ["LuaCore", "PluginKit", "CChassis"], path: "Plugins/Lua/Export",
                linkerSettings: residentPlugin),

        .testTarget(name: "ChassisHostTests", dependencies: ["ChassisHost"]),
        .testTarget(name: "PoolingTests", dependencies: ["Pooling"]),
        .testTarget(
            name: "MySQLWireTests",
            dependencies: [
                "MySQLWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "SQLTextTests", dependencies: ["SQLText"]),
        .testTarget(name: "StatsPluginTests", dependencies: ["StatsPlugin"]),
        .testTarget(name: "SocketParkingTests", dependencies: ["SocketParking"]),
        .testTarget(name: "AdminTests", dependencies: ["AdminCore"]),
        .testTarget(name: "LuaTests", dependencies: ["LuaCore", "CLuaGlue", "CChassis", "MySQLWire",
                                                      .product(name: "NIOCore", package: "swift-nio")]),
    ],
    swiftLanguageModes: [.v5]
)
