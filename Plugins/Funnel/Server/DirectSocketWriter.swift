import Glibc
import NIOCore

/// Sends a command or a response straight to the channel's socket when NIO holds nothing queued
/// for it. A write and flush through the pipeline costs about 2,900 instructions (the pipeline,
/// the pending-writes queue, the flush), twice per statement; send(2) costs a few hundred with
/// its checks. Whatever the socket does not take at once (a full buffer, EAGAIN, an error) goes
/// to NIO in order, and from then on NIO owns the channel's writes until its queue is empty
/// again: writability, backpressure, failures and closing stay NIO's.
///
/// It sits in the pipeline between the head and the funnel's handler, so every write of that
/// handler, from any code path, passes through `write` and is counted until NIO has written it:
/// a direct send never overtakes bytes NIO still holds. (NIO's own count, the
/// `bufferedWritableBytes` option, costs about 1,800 instructions per read through its
/// generic option lookup.)
///
/// The descriptor is borrowed through the channel core for the length of one call on the
/// channel's event loop, and NIO refuses the borrow once the socket is closed, so a descriptor
/// number is never used after NIO gave it back.
final class DirectSocketWriter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var core: (any NIOTransportAccessibleChannelCore<NIOBSDSocket.Handle>)?
    /// Bytes written through NIO and not written to the socket yet (on the event loop only).
    private(set) var queuedInNIO = 0

    func handlerAdded(context: ChannelHandlerContext) {
        core = context.channel._channelCore as? any NIOTransportAccessibleChannelCore<NIOBSDSocket.Handle>
    }

    func handlerRemoved(context: ChannelHandlerContext) { core = nil }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let bytes = unwrapOutboundIn(data).readableBytes
        guard bytes > 0 else { return context.write(data, promise: promise) }
        queuedInNIO += bytes
        let written = promise ?? context.eventLoop.makePromise()
        written.futureResult.whenComplete { _ in self.queuedInNIO -= bytes }
        context.write(data, promise: written)
    }

    /// `context`: the context of the handler right after this one (the funnel's), whose NIO
    /// writes come through `write` above.
    func writeAndFlush(_ bytes: ByteBuffer, from context: ChannelHandlerContext) {
        let length = bytes.readableBytes
        if queuedInNIO == 0, length > 0, let core {
            let sent = (try? core.withUnsafeTransport { socket in
                bytes.withUnsafeReadableBytes { send(socket, $0.baseAddress, length, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            }) ?? -1
            if sent == length { return }
            if sent > 0 {
                context.writeAndFlush(NIOAny(bytes.getSlice(at: bytes.readerIndex + sent, length: length - sent)!), promise: nil)
                return
            }
        }
        context.writeAndFlush(NIOAny(bytes), promise: nil)
    }
}
