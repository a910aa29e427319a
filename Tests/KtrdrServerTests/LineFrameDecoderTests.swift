import NIOCore
import NIOTestUtils
import XCTest

@testable import KtrdrServer

/// The control socket's line decoder under NIO's verifier, which feeds every input whole, byte
/// by byte and in random splits, and checks the same frames come out each time.
final class LineFrameDecoderTests: XCTestCase {
    func frames(_ lines: [String]) -> [LineFrame] { lines.map { .line(ByteBuffer(string: $0)) } }

    func testLinesCRLFAndEmptyLines() throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [
                (ByteBuffer(string: "a\n"), frames(["a"])),
                (ByteBuffer(string: "{\"id\":1}\r\n{\"id\":2}\n"), frames(["{\"id\":1}", "{\"id\":2}"])),
                (ByteBuffer(string: "\n\r\n"), frames(["", ""])),
            ],
            decoderFactory: { LineFrameDecoder(maxLength: 64) })
    }

    func testALineOverTheCapIsReportedAndTheStreamRecovers() throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [
                (ByteBuffer(string: String(repeating: "x", count: 20) + "\nok\n"), [.tooLong(20)] + frames(["ok"])),
                (ByteBuffer(string: "12345678\n"), frames(["12345678"])),  // exactly the cap
                (ByteBuffer(string: "123456789\nnext\r\n"), [.tooLong(9)] + frames(["next"])),
            ],
            decoderFactory: { LineFrameDecoder(maxLength: 8) })
    }
}

extension LineFrame: Equatable {
    public static func == (a: LineFrame, b: LineFrame) -> Bool {
        switch (a, b) {
        case let (.line(x), .line(y)): x == y
        case let (.tooLong(x), .tooLong(y)): x == y
        default: false
        }
    }
}
