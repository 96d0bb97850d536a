import CChassis
import NIOConcurrencyHelpers
import Pooling

/// The backends the funnel balances over, the policies other plugins registered, and the
/// choice of candidates for each acquisition.
final class BackendRegistry: @unchecked Sendable {
    private let lock = NIOLock()
    private var backends: [BackendState] = []
    private let policies: PolicySet
    var algorithm: BalanceAlgorithm

    init(algorithm: BalanceAlgorithm, policies: PolicySet) {
        self.algorithm = algorithm
        self.policies = policies
    }

    var all: [BackendState] { lock.withLock { backends } }

    subscript(id: BackendID) -> BackendState? { lock.withLock { backends.first { $0.id == id } } }

    func add(_ backend: BackendState) throws {
        try lock.withLock {
            if let existing = backends.first(where: { $0.id == backend.id }) {
                if existing.health == .draining {
                    throw FunnelConfigurationError("backend \(backend.id) is still draining; add it again when it has left the backends")
                }
                throw FunnelConfigurationError("backend \(backend.id) exists already")
            }
            backends.append(backend)
        }
    }

    func remove(_ id: BackendID) {
        lock.withLock { backends.removeAll { $0.id == id } }
    }

    /// True when some backend would serve this role once it is up again (or resumed): a request
    /// then waits in the backlog instead of failing at once.
    func anyWillServe(_ role: BackendRole) -> Bool {
        lock.withLock { backends.contains { ($0.health == .down || $0.health == .up) && (role == .readOnly || $0.role == .readWrite) } }
    }

    /// The backends that may serve this acquisition, best first. A read-only request prefers
    /// read-only backends and falls back to read-write ones; a read-write request never goes
    /// to a read-only backend. Policies may veto any of them.
    func candidates(role: BackendRole, user: String, database: String?, poolOpen: (BackendID) -> (open: Int, idle: Int)) -> [BackendID] {
        lock.withLock {
            if backends.count == 1, policies.isEmpty {   // the common setup, without the filtering
                let only = backends[0]
                return only.takes(role) ? only.aloneAsCandidates : []
            }
            let up = backends.filter { $0.health == .up }
            var eligible = up.filter { $0.role == role }
            if eligible.isEmpty && role == .readOnly { eligible = up.filter { $0.role == .readWrite } }
            if !policies.isEmpty {
                let list = policies.all
                eligible = eligible.filter { allowed($0, list, user: user, database: database, poolOpen: poolOpen) }
            }
            return Balancer.rank(eligible, algorithm: algorithm).map(\.id)
        }
    }

    private func allowed(_ backend: BackendState, _ policies: [PolicySet.Policy], user: String, database: String?,
                         poolOpen: (BackendID) -> (open: Int, idle: Int)) -> Bool {
        backend.id.name.withCString { name in
            user.withCString { userName in
                for policy in policies {
                    if let veto = policy.veto {
                        let vetoed = database.map { db in db.withCString { veto(policy.user, name, userName, $0) } } ?? veto(policy.user, name, userName, nil)
                        if vetoed != 0 { return false }
                    }
                    if let cap = policy.cap {
                        let limit = cap(policy.user, name, userName)
                        let counts = poolOpen(backend.id)
                        // At its cap, a pool may still use its idle connections but opens no more.
                        if limit != UInt32.max, counts.open >= Int(limit), counts.idle == 0 { return false }
                    }
                }
                return true
            }
        }
    }
}
