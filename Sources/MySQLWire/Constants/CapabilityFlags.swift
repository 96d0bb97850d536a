/// Client/server capability flags. The low 32 bits are MySQL's; MariaDB puts its extended
/// capabilities in the high 32 bits (sent in the handshake's reserved bytes when CLIENT_MYSQL is off).
public struct CapabilityFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let longPassword = CapabilityFlags(rawValue: 1 << 0)
    /// MariaDB's name for bit 0: a server that clears it speaks MariaDB's extended capabilities.
    public static let clientMySQL = longPassword
    public static let foundRows = CapabilityFlags(rawValue: 1 << 1)
    public static let longFlag = CapabilityFlags(rawValue: 1 << 2)
    public static let connectWithDB = CapabilityFlags(rawValue: 1 << 3)
    public static let noSchema = CapabilityFlags(rawValue: 1 << 4)
    public static let compress = CapabilityFlags(rawValue: 1 << 5)
    public static let odbc = CapabilityFlags(rawValue: 1 << 6)
    public static let localFiles = CapabilityFlags(rawValue: 1 << 7)
    public static let ignoreSpace = CapabilityFlags(rawValue: 1 << 8)
    public static let protocol41 = CapabilityFlags(rawValue: 1 << 9)
    public static let interactive = CapabilityFlags(rawValue: 1 << 10)
    public static let ssl = CapabilityFlags(rawValue: 1 << 11)
    public static let ignoreSigpipe = CapabilityFlags(rawValue: 1 << 12)
    public static let transactions = CapabilityFlags(rawValue: 1 << 13)
    public static let reserved = CapabilityFlags(rawValue: 1 << 14)
    public static let secureConnection = CapabilityFlags(rawValue: 1 << 15)
    public static let multiStatements = CapabilityFlags(rawValue: 1 << 16)
    public static let multiResults = CapabilityFlags(rawValue: 1 << 17)
    public static let psMultiResults = CapabilityFlags(rawValue: 1 << 18)
    public static let pluginAuth = CapabilityFlags(rawValue: 1 << 19)
    public static let connectAttrs = CapabilityFlags(rawValue: 1 << 20)
    public static let pluginAuthLenencClientData = CapabilityFlags(rawValue: 1 << 21)
    public static let canHandleExpiredPasswords = CapabilityFlags(rawValue: 1 << 22)
    public static let sessionTrack = CapabilityFlags(rawValue: 1 << 23)
    public static let deprecateEOF = CapabilityFlags(rawValue: 1 << 24)
    /// MySQL 8: result set metadata may be omitted. Not understood by `CommandResponseStateMachine`.
    public static let optionalResultsetMetadata = CapabilityFlags(rawValue: 1 << 25)
    public static let zstdCompression = CapabilityFlags(rawValue: 1 << 26)
    /// MySQL 8: COM_QUERY carries query attributes. Not understood by `ComQuery`.
    public static let queryAttributes = CapabilityFlags(rawValue: 1 << 27)
    public static let multiFactorAuthentication = CapabilityFlags(rawValue: 1 << 28)
    public static let capabilityExtension = CapabilityFlags(rawValue: 1 << 29)
    public static let sslVerifyServerCert = CapabilityFlags(rawValue: 1 << 30)
    public static let rememberOptions = CapabilityFlags(rawValue: 1 << 31)

    public static let mariaDBProgress = CapabilityFlags(rawValue: 1 << 32)
    public static let mariaDBComMulti = CapabilityFlags(rawValue: 1 << 33)
    public static let mariaDBStmtBulkOperations = CapabilityFlags(rawValue: 1 << 34)
    public static let mariaDBExtendedTypeInfo = CapabilityFlags(rawValue: 1 << 35)
    public static let mariaDBCacheMetadata = CapabilityFlags(rawValue: 1 << 36)

    /// The low 32 bits, as sent in MySQL's capability fields.
    public var lowerBits: UInt32 { UInt32(truncatingIfNeeded: rawValue) }
    /// The MariaDB extended capabilities, as sent in the reserved bytes.
    public var mariaDBExtendedBits: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 32) }

    init(lowerBits: UInt32, mariaDBExtendedBits: UInt32) {
        self.init(rawValue: UInt64(lowerBits) | UInt64(mariaDBExtendedBits) << 32)
    }
}
