/// A point in time on a monotonic clock, in nanoseconds. The pool never reads a clock itself:
/// every event carries `now`, so tests drive time with a plain counter.
/// (With NIO: `PoolInstant(nanoseconds: NIODeadline.now().uptimeNanoseconds)`.)
public struct PoolInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public static func < (lhs: PoolInstant, rhs: PoolInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public static func + (lhs: PoolInstant, rhs: PoolDuration) -> PoolInstant {
        let (sum, overflow) = lhs.nanoseconds.addingReportingOverflow(rhs.nanoseconds)
        return PoolInstant(nanoseconds: overflow ? .max : sum)
    }

    /// Time elapsed since `earlier`; zero if `earlier` is later (clocks never go backwards here).
    public func duration(since earlier: PoolInstant) -> PoolDuration {
        PoolDuration(nanoseconds: nanoseconds >= earlier.nanoseconds ? nanoseconds - earlier.nanoseconds : 0)
    }

    public var description: String { "t+\(nanoseconds)ns" }
}

/// A length of time in nanoseconds.
public struct PoolDuration: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public static let zero = PoolDuration(nanoseconds: 0)
    public static func nanoseconds(_ n: UInt64) -> PoolDuration { PoolDuration(nanoseconds: n) }
    public static func milliseconds(_ n: UInt64) -> PoolDuration { PoolDuration(nanoseconds: n * 1_000_000) }
    public static func seconds(_ n: UInt64) -> PoolDuration { PoolDuration(nanoseconds: n * 1_000_000_000) }

    public static func < (lhs: PoolDuration, rhs: PoolDuration) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public var description: String { "\(nanoseconds)ns" }
}
