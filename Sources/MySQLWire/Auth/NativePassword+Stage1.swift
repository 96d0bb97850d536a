extension NativePassword {
    /// SHA1(password): what a proxy logs in to a backend with when it knows the password.
    public static func stage1(password: String) -> [UInt8] {
        sha1(Array(password.utf8))
    }
}
