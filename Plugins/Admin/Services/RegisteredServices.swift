/// The registry itself: the `services` table, every registered service and who provides it.
struct RegisteredServices {
    static let columns = [Column("name", .varchar), Column("version", .bigint), Column("provider", .varchar)]

    let access: ServiceAccess

    func rows() -> [[Value]] {
        access.context.services().map { [.text($0.name), Value($0.version), .text($0.provider)] }
    }
}
