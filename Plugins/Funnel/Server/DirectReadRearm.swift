import NIOCore

/// Asks for a channel's next read straight from its core. After each read NIO re-arms the channel
/// by sending `read` down the pipeline (the tail, every outbound handler, the head, then the core)
/// unless a read is pending already; that walk cost about 1,100 instructions a read, two reads per
/// statement. The funnel's handlers call `rearm` from channelReadComplete, which NIO fires just
/// before that step, so NIO finds the read pending and skips its walk.
///
/// Only while autoRead is on: a channel paused for backpressure (autoRead off) stays paused until
/// autoRead is turned on again, so a paused handler must not call this.
struct DirectReadRearm {
    private var core: ChannelCore?

    mutating func attach(_ context: ChannelHandlerContext) { core = context.channel._channelCore }
    mutating func detach() { core = nil }

    /// On the channel's event loop.
    func rearm() { core?.read0() }
}
