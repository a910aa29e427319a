import Foundation
import KtrdrCore
import KtrdrPlugins

/// A stored result as one self-checking byte string, for copying it from a worker to its
/// server without decoding or re-encoding it: `KTRPKG1\n`, the header's length (8 bytes, little
/// endian), the header JSON, the compressed result file (`ResultFile`), and the SHA-256 of
/// everything before it (32 bytes as 64 hex digits).
extension OperationStore {
    static let packageMagic = Array("KTRPKG1\n".utf8)

    /// The result of `id` as a package; nil when there is none.
    public func resultPackage(_ id: String) throws -> [UInt8]? {
        guard let row = try read({ try $0.query("SELECT summary, file, data, sha256 FROM result_files WHERE id = ?", [.text(id)]) }).first,
              let summary = row[0].text, let sha = row[3].text else {
            // A schema-1 row: re-encode it.
            guard let result = try result(id) else { return nil }
            var trades = FastJSON(capacity: result.trades.count * 320)
            trades.array(result.trades) { $0.trade($1) }
            let header = String(decoding: try Self.encoder.encode(ResultHeader(result)), as: UTF8.self)
            return Self.package(summary: header, file: try ResultFile.encode(tradesJSON: trades.bytes, curve: result.equityCurve))
        }
        let bytes: [UInt8]
        if let name = row[1].text { bytes = try files.read(name, sha256: sha) } else { bytes = row[2].blob ?? [] }
        return Self.package(summary: summary, file: bytes)
    }

    static func package(summary: String, file: [UInt8]) -> [UInt8] {
        var out = packageMagic
        let header = Array(summary.utf8)
        out.reserveCapacity(header.count + file.count + 80)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out += header
        out += file
        out += Array(Checksum.sha256(out).utf8)
        return out
    }

    /// Checks a package (digest, header, the result file's layout) and stores it as
    /// the result of `id`. `origin` names where it came from in errors.
    public func importResult(_ id: String, package bytes: [UInt8], origin: String) throws {
        let fail = { (why: String) in SQLiteError(message: "result package from \(origin): \(why)") }
        let magic = Self.packageMagic.count
        guard bytes.count >= magic + 8 + 64, Array(bytes[0..<magic]) == Self.packageMagic else { throw fail("not a result package (\(bytes.count) bytes)") }
        let body = bytes[0..<(bytes.count - 64)]
        guard String(decoding: bytes[(bytes.count - 64)...], as: UTF8.self) == Checksum.sha256(body) else { throw fail("checksum mismatch (damaged in transit)") }
        let length = bytes[magic..<(magic + 8)].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= UInt64(body.count - magic - 8) else { throw fail("header length \(length) beyond the package") }
        let headerEnd = magic + 8 + Int(length)
        let summary = String(decoding: bytes[(magic + 8)..<headerEnd], as: UTF8.self)
        do { _ = try Self.decoder.decode(ResultHeader.self, from: Data(summary.utf8)) } catch { throw fail("header: \(error)") }
        let file = Array(body[headerEnd...])
        try ResultFile.checkLayout(file, file: origin)
        try storeResult(id, summary: summary, bytes: file)
    }
}
