/// Collation ids as sent in the handshake and column definitions (the protocol calls them character sets).
public enum CharacterSetID {
    public static let latin1SwedishCI: UInt8 = 8
    public static let utf8GeneralCI: UInt8 = 33
    public static let utf8mb4GeneralCI: UInt8 = 45
    public static let binary: UInt8 = 63
    public static let utf8mb4UnicodeCI: UInt8 = 224
    public static let utf8mb40900AICI: UInt8 = 255
}
