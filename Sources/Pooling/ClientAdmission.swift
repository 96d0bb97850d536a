/// Counts client connections to the proxy, globally and per user, and refuses those over the
/// limits (before any backend connection is involved). A value type; the caller serialises use.
public struct ClientAdmission: Sendable {
    public struct Limits: Sendable, Equatable {
        public var maxClients: Int?
        public var maxClientsPerUser: Int?
        public var userLimits: [String: Int]

        public init(maxClients: Int? = nil, maxClientsPerUser: Int? = nil, userLimits: [String: Int] = [:]) {
            self.maxClients = maxClients
            self.maxClientsPerUser = maxClientsPerUser
            self.userLimits = userLimits
        }

        func limit(for user: String) -> Int? { userLimits[user] ?? maxClientsPerUser }
    }

    public enum Refusal: Error, Sendable, Equatable {
        /// All clients: `current` connected, `max` allowed.
        case tooManyClients(current: Int, max: Int)
        /// Clients of one user.
        case tooManyClientsForUser(String, current: Int, max: Int)
    }

    public var limits: Limits
    public private(set) var total = 0
    public private(set) var perUser: [String: Int] = [:]
    public private(set) var admitted = 0
    public private(set) var refused = 0

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Count a new client of `user` in, or say why not (nothing is counted then).
    public mutating func admit(user: String) -> Refusal? {
        if let max = limits.maxClients, total >= max {
            refused += 1
            return .tooManyClients(current: total, max: max)
        }
        let current = perUser[user, default: 0]
        if let max = limits.limit(for: user), current >= max {
            refused += 1
            return .tooManyClientsForUser(user, current: current, max: max)
        }
        total += 1
        perUser[user] = current + 1
        admitted += 1
        return nil
    }

    /// An admitted client of `user` left. False (and no change) if none was counted.
    @discardableResult
    public mutating func leave(user: String) -> Bool {
        guard let current = perUser[user], current > 0 else { return false }
        perUser[user] = current == 1 ? nil : current - 1
        total -= 1
        return true
    }

    public func clients(of user: String) -> Int { perUser[user, default: 0] }
}
