/// The flags word of a column definition.
public struct ColumnFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let notNull = ColumnFlags(rawValue: 1 << 0)
    public static let primaryKey = ColumnFlags(rawValue: 1 << 1)
    public static let uniqueKey = ColumnFlags(rawValue: 1 << 2)
    public static let multipleKey = ColumnFlags(rawValue: 1 << 3)
    public static let blob = ColumnFlags(rawValue: 1 << 4)
    public static let unsigned = ColumnFlags(rawValue: 1 << 5)
    public static let zerofill = ColumnFlags(rawValue: 1 << 6)
    public static let binary = ColumnFlags(rawValue: 1 << 7)
    public static let enumeration = ColumnFlags(rawValue: 1 << 8)
    public static let autoIncrement = ColumnFlags(rawValue: 1 << 9)
    public static let timestamp = ColumnFlags(rawValue: 1 << 10)
    public static let set = ColumnFlags(rawValue: 1 << 11)
    public static let noDefaultValue = ColumnFlags(rawValue: 1 << 12)
    public static let onUpdateNow = ColumnFlags(rawValue: 1 << 13)
    public static let number = ColumnFlags(rawValue: 1 << 15)
}
