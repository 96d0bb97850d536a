import CChassis
import Foundation

/// "chassis.options": the `config` table, every effective option with where it came from.
/// Secrets are masked: the admin port must not hand out the passwords it is configured with.
struct HostOptions {
    static let columns = [Column("plugin", .varchar), Column("name", .varchar), Column("value", .varchar), Column("origin", .varchar)]
    static let mask = "********"

    let access: ServiceAccess

    func rows() throws -> [[Value]] {
        let service = try access.host("chassis.options", chassis_options_service.self)
        return RowCollector.collect { user in
            service.calls.list(service.instance, { plugin, name, value, origin, user in
                let optionName = String(cString: name)
                let shown = value.map { HostOptions.masked(optionName, String(cString: $0)) }
                RowCollector.from(user).rows.append([Value(plugin), .text(optionName), shown.map(Value.text) ?? .null, Value(origin)])
            }, user)
        }
    }

    static func isSecret(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.contains("password") || lower.contains("secret")
    }

    /// A secret option shows as a mask; a table option (JSON) keeps its shape with secret keys masked.
    static func masked(_ name: String, _ value: String) -> String {
        if isSecret(name) { return value.isEmpty ? value : mask }
        guard value.hasPrefix("{") || value.hasPrefix("["),
              let json = try? JSONSerialization.jsonObject(with: Data(value.utf8)) else { return value }
        let scrubbed = scrub(json)
        guard let data = try? JSONSerialization.data(withJSONObject: scrubbed, options: [.sortedKeys]) else { return mask }
        return String(decoding: data, as: UTF8.self)
    }

    private static func scrub(_ json: Any) -> Any {
        if let object = json as? [String: Any] {
            return Dictionary(uniqueKeysWithValues: object.map { key, value in (key, isSecret(key) ? mask : scrub(value)) })
        }
        if let array = json as? [Any] { return array.map(scrub) }
        return json
    }
}
