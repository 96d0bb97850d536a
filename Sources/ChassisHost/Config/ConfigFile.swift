import Foundation

/// The --defaults-file: a TOML file with a [chassis] table and one table per plugin.
public enum ConfigFile {
    public static func read(_ path: String) throws -> TOMLTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ChassisError(.usage, "cannot read config file \(path): \(FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ChassisError(.usage, "config file \(path) is not UTF-8 text")
        }
        do {
            return try TOMLParser.parse(text)
        } catch let error as TOMLParser.SyntaxError {
            throw ChassisError(.usage, "config file \(path), \(error)")
        }
    }
}
