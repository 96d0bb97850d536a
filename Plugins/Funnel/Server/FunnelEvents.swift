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
    }

    private let context: PluginContext
    private var topics: [Name: UnsafePointer<chassis_topic>] = [:]

    init(context: PluginContext) {
        self.context = context
        for name in Name.allCases {
            if let topic = context.topic(name.rawValue) { topics[name] = topic }
        }
    }

    /// True when at least one plugin subscribed (or the host predates topics: then always).
    @inline(__always)
    func wanted(_ name: Name) -> Bool {
        guard let topic = topics[name] else { return true }
        return topic.pointee.subscribers > 0
    }

    func publish(_ name: Name, _ detail: String, payload: UnsafeRawPointer? = nil) {
        context.publish(name.rawValue, detail: detail, payload: payload)
    }
}
