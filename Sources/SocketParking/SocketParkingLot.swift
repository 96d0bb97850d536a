import CLinuxIO
import Foundation
import Glibc
import NIOConcurrencyHelpers

/// What a parking lot keeps of a connection: a value with the socket and a unique id.
public protocol ParkableSocket: Sendable {
    var parkingID: UInt32 { get }
    var socket: Int32 { get }
}

public struct SocketParkingError: Error, CustomStringConvertible {
    public let description: String
}

/// Idle connections kept outside any event loop: each one is its socket in this lot's own epoll
/// set plus a record (a value, stored inline in the lot's table). The first byte on a socket (or
/// its hang-up) wakes the connection: the lot takes it out and hands the record to `wake`, and
/// the bytes stay in the socket for whoever reads it next.
///
/// Whoever takes a record out of the table owns its socket: the waking thread, `take`, or `stop`.
public final class SocketParkingLot<Parked: ParkableSocket>: @unchecked Sendable {
    private let lock = NIOLock()
    private var parked: [UInt32: Parked] = [:]
    private var parks: UInt64 = 0
    private var wakes: UInt64 = 0
    private var parkedSinceTrim = 0
    private var lastPark = DispatchTime.now()
    private var stopped = false
    private let epoll: Int32
    /// An eventfd in the epoll set: written once to stop the waiting thread.
    private let stopSignal: Int32
    private static var stopToken: UInt64 { 1 << 40 }   // above every parking id
    private var thread: Thread?
    /// Called on the lot's thread only; dropped by `stop` (once that thread is gone), so a
    /// callback holding the lot's owner does not keep it alive.
    private var wake: (@Sendable (Parked) -> Void)?

    public init(wake: @escaping @Sendable (Parked) -> Void) throws {
        self.wake = wake
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw SocketParkingError(description: "cannot create an epoll set: errno \(errno)") }
        stopSignal = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard stopSignal >= 0 else {
            close(epoll)
            throw SocketParkingError(description: "cannot create an eventfd: errno \(errno)")
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = Self.stopToken
        epoll_ctl(epoll, EPOLL_CTL_ADD, stopSignal, &event)
    }

    deinit {
        close(stopSignal)
        close(epoll)
    }

    /// Starts the thread that waits for parked sockets to wake.
    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "socket-parking"
        self.thread = thread
        thread.start()
    }

    /// Stops the waiting thread and returns what is still parked (the caller closes those sockets).
    public func stop() -> [Parked] {
        var one: UInt64 = 1
        _ = write(stopSignal, &one, 8)
        while let thread, !thread.isFinished { usleep(1000) }
        wake = nil
        return lock.withLock {
            stopped = true
            defer { parked = [:] }
            return Array(parked.values)
        }
    }

    /// Parks a connection: its socket is watched from now on. False when the socket cannot be
    /// watched, or the lot has stopped (the caller still owns the socket then).
    public func park(_ connection: Parked) -> Bool {
        lock.withLock {
            guard !stopped else { return false }
            parked[connection.parkingID] = connection
            var event = epoll_event()
            // One-shot: the first readiness takes the connection out; level-triggered, so bytes
            // that arrived before the socket was added still wake it.
            event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLONESHOT.rawValue
            event.data.u64 = UInt64(connection.parkingID)
            guard epoll_ctl(epoll, EPOLL_CTL_ADD, connection.socket, &event) == 0 else {
                parked[connection.parkingID] = nil
                return false
            }
            parks += 1
            parkedSinceTrim += 1
            lastPark = .now()
            return true
        }
    }

    /// Takes a parked connection out; its socket is no longer watched and is the caller's.
    public func take(_ id: UInt32) -> Parked? {
        lock.withLock {
            guard let connection = parked.removeValue(forKey: id) else { return nil }
            epoll_ctl(epoll, EPOLL_CTL_DEL, connection.socket, nil)
            return connection
        }
    }

    public var all: [Parked] { lock.withLock { Array(parked.values) } }
    /// Connections parked now, and the times connections were parked and woke up.
    public var figures: (parked: Int, parks: UInt64, wakes: UInt64) { lock.withLock { (parked.count, parks, wakes) } }

    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while true {
            let n = epoll_wait(epoll, &events, Int32(events.count), 1000)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            for event in events.prefix(Int(n)) {
                if event.data.u64 == Self.stopToken { return }
                guard let connection = take(UInt32(truncatingIfNeeded: event.data.u64)) else { continue }
                lock.withLock { wakes += 1 }
                wake?(connection)
            }
            trimAfterParking()
        }
    }

    /// Parking frees what each connection had in its event loop; once a wave of parking has
    /// settled, malloc_trim hands the pages that emptied back to the system (glibc keeps them).
    private func trimAfterParking() {
        let due = lock.withLock {
            guard parkedSinceTrim >= 64, DispatchTime.now().uptimeNanoseconds > lastPark.uptimeNanoseconds + 500_000_000 else {
                return false
            }
            parkedSinceTrim = 0
            return true
        }
        if due { malloc_trim(0) }
    }
}
