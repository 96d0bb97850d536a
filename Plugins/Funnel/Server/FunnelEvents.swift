import CChassis
import PluginKit

/// The funnel's events, published through the registry. Each has a topic whose subscriber
/// count is read before the event is built, so an event nobody listens to costs one load.
final class FunnelEvents: @unchecked Sendable {
    enum Name: String, CaseIterable {
        case acquire = "funnel.pool.acquire"
        case release = "funnel.pool.release"
        case backlogEnter = "funnel.pool.backlog.enter"
        case backlogTimeout = "funnel.pool.backlog.timeout"
        case backlogRefused = "funnel.pool.backlog.refused"
        case clientConnected = "funnel.client.connected"
        case clientDisconnected = "funnel.client.disconnected"
        case pinned = "funnel.client.pinned"
        case backendAdded = "funnel.backend.added"
        case backendRemoved = "funnel.backend.removed"
        case backendState = "funnel.backend.state"

        /// The case's position in `allCases` (declaration order), without hashing the raw value.
        var position: Int {
            switch self {
            case .acquire: 0
            case .release: 1
            case .backlogEnter: 2
            case .backlogTimeout: 3
            case .backlogRefused: 4
            case .clientConnected: 5
            case .clientDisconnected: 6
            case .pinned: 7
            case .backendAdded: 8
            case .backendRemoved: 9
            case .backendState: 10
            }
        }
    }

    private let context: PluginContext
    /// By the name's position in `Name.allCases`: asked twice per query, so no hashing.
    private let topics: [UnsafePointer<chassis_topic>?]

    init(context: PluginContext) {
        self.context = context
        precondition(Name.allCases.enumerated().allSatisfy { $0.offset == $0.element.position })
        topics = Name.allCases.map { context.topic($0.rawValue) }
    }

    /// True when at least one plugin subscribed (or the host predates topics: then always).
    @inline(__always)
    func wanted(_ name: Name) -> Bool {
        guard let topic = topics[name.position] else { return true }
        return topic.pointee.subscribers > 0
    }

    func publish(_ name: Name, _ detail: String, payload: UnsafeRawPointer? = nil) {
        context.publish(name.rawValue, detail: detail, payload: payload)
    }
}
