import CChassis

/// The ABI this host implements, for version output and checks outside the loader.
public enum ChassisABI {
    public static let major = Int(CHASSIS_ABI_MAJOR)
    public static let minor = Int(CHASSIS_ABI_MINOR)
    public static var version: String { "\(major).\(minor)" }
}
