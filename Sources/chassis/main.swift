import ArgumentParser
import ChassisHost
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    if arguments.contains("--help") || arguments.contains("-h") {
        try HelpPrinter.print(arguments: arguments)
    } else {
        var command = try ChassisCommand.parse(arguments)
        try command.run()
    }
    exit(0)
} catch let error as ChassisError {
    FileHandle.standardError.write(Data("chassis: error: \(error.message)\n".utf8))
    exit(error.exitStatus)
} catch where ChassisCommand.exitCode(for: error) == .success {
    print(ChassisCommand.message(for: error))  // --version
    exit(0)
} catch {
    // Malformed chassis options: the same exit status as every other usage error.
    FileHandle.standardError.write(Data("chassis: error: \(ChassisCommand.message(for: error))\n".utf8))
    exit(ChassisError(.usage, "").exitStatus)
}
