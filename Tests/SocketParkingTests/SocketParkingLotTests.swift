import Glibc
import NIOConcurrencyHelpers
import SocketParking
import XCTest

/// The parking lot over real sockets (a socketpair): what wakes a connection, who owns its socket.
final class SocketParkingLotTests: XCTestCase {
    struct Parked: ParkableSocket {
        var parkingID: UInt32
        var socket: Int32
        var note = "kept"
    }

    private let woken = NIOLockedValueBox<[Parked]>([])
    private var lot: SocketParkingLot<Parked>!
    private var peers: [Int32] = []

    override func setUpWithError() throws {
        lot = try SocketParkingLot<Parked> { [woken] parked in woken.withLockedValue { $0.append(parked) } }
        lot.start()
    }

    override func tearDown() {
        for parked in lot.stop() { close(parked.socket) }
        for parked in woken.withLockedValue({ $0 }) { close(parked.socket) }
        for peer in peers { close(peer) }
    }

    /// A parked socket, one end of a socketpair; the other end (the peer) is returned.
    private func parkSocket(id: UInt32) throws -> Int32 {
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends), 0)
        peers.append(ends[1])
        XCTAssertTrue(lot.park(Self.parked(id: id, socket: ends[0])))
        return ends[1]
    }

    private static func parked(id: UInt32, socket: Int32) -> Parked {
        Parked(parkingID: id, socket: socket)
    }

    private func waitForWakes(_ count: Int) -> [Parked] {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let now = woken.withLockedValue { $0 }
            if now.count >= count { return now }
            usleep(2_000)
        }
        return woken.withLockedValue { $0 }
    }

    func testAByteWakesOnlyThatSocketAndStaysUnread() throws {
        let first = try parkSocket(id: 1)
        _ = try parkSocket(id: 2)
        XCTAssertEqual(lot.figures.parked, 2)
        XCTAssertEqual(write(first, "Q", 1), 1)
        let woke = waitForWakes(1)
        XCTAssertEqual(woke.map(\.parkingID), [1])
        XCTAssertEqual(woke.first?.note, "kept")
        usleep(50_000)
        XCTAssertEqual(woken.withLockedValue { $0.count }, 1, "the other socket stays parked")
        XCTAssertEqual(lot.figures.parked, 1)
        XCTAssertEqual(lot.figures.wakes, 1)
        // The byte is still in the socket, for the event loop to read.
        var byte: UInt8 = 0
        XCTAssertEqual(read(woke[0].socket, &byte, 1), 1)
        XCTAssertEqual(byte, UInt8(ascii: "Q"))
    }

    func testAHangUpWakes() throws {
        let peer = try parkSocket(id: 3)
        close(peer)
        peers.removeAll { $0 == peer }
        XCTAssertEqual(waitForWakes(1).map(\.parkingID), [3])
    }

    func testATakenSocketIsNoLongerWatched() throws {
        let peer = try parkSocket(id: 4)
        let taken = try XCTUnwrap(lot.take(4))
        XCTAssertNil(lot.take(4), "a record is taken once")
        XCTAssertEqual(write(peer, "x", 1), 1)
        usleep(100_000)
        XCTAssertTrue(woken.withLockedValue { $0.isEmpty })
        close(taken.socket)
    }

    func testStopHandsBackWhatIsStillParkedAndRefusesMore() throws {
        _ = try parkSocket(id: 5)
        let left = lot.stop()
        XCTAssertEqual(left.map(\.parkingID), [5])
        for parked in left { close(parked.socket) }
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends), 0)
        XCTAssertFalse(lot.park(Self.parked(id: 6, socket: ends[0])), "a stopped lot parks nothing")
        close(ends[0])
        close(ends[1])
    }
}
