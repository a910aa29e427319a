import NIOCore

/// One frame of the control protocol: a line, or the notice that a line exceeded the cap
/// (its bytes are discarded up to the next newline, and the connection stays usable).
public enum LineFrame: Sendable {
    case line(ByteBuffer)
    case tooLong(Int)
}

/// Splits the byte stream into `\n`-terminated lines (a trailing `\r` is dropped), with a size cap.
struct LineFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = LineFrame
    let maxLength: Int
    private var discarding = 0

    init(maxLength: Int) { self.maxLength = maxLength }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        if let newline = view.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - view.startIndex
            if discarding > 0 {
                buffer.moveReaderIndex(forwardBy: length + 1)
                context.fireChannelRead(wrapInboundOut(.tooLong(discarding + length)))
                discarding = 0
                return .continue
            }
            if length > maxLength {
                buffer.moveReaderIndex(forwardBy: length + 1)
                context.fireChannelRead(wrapInboundOut(.tooLong(length)))
                return .continue
            }
            var line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            if line.readableBytesView.last == UInt8(ascii: "\r") { line = line.getSlice(at: line.readerIndex, length: line.readableBytes - 1)! }
            context.fireChannelRead(wrapInboundOut(.line(line)))
            return .continue
        }
        if buffer.readableBytes > maxLength || discarding > 0 {
            discarding += buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        }
        return .needMoreData
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if buffer.readableBytes > 0, discarding == 0 {  // a last line without newline
            let line = buffer.readSlice(length: buffer.readableBytes)!
            context.fireChannelRead(wrapInboundOut(.line(line)))
        }
        return .needMoreData
    }
}
