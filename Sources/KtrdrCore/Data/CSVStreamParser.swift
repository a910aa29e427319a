/// The CSV loader's parse, fed in chunks: the caller reads a file through a small reused
/// buffer and hands over what it has; complete lines become bars, the unfinished last line
/// is left for the next chunk. No whole-file buffer, so loading a 58 MB file touches a few
/// hundred KiB of read buffer instead of 14,000 fresh pages.
public struct CSVStreamParser {
    private let fileName: String
    private var roles: [Int]?
    /// Lines consumed so far (the header is line 1).
    private var line = 0
    private var ts: [Int64] = [], o: [Double] = [], h: [Double] = [], l: [Double] = [], c: [Double] = [], v: [Double] = []

    /// `expectedBytes` (the file's size, if known) sizes the columns once.
    public init(fileName: String, expectedBytes: Int = 0) {
        self.fileName = fileName
        let estimate = max(16, expectedBytes / 40)
        ts.reserveCapacity(estimate); o.reserveCapacity(estimate); h.reserveCapacity(estimate)
        l.reserveCapacity(estimate); c.reserveCapacity(estimate); v.reserveCapacity(estimate)
    }

    /// Parses the complete lines of `bytes`, and the unfinished last one too when `final`.
    /// Returns how many bytes were consumed; the rest must be fed again, with more after it.
    /// `bytes[bytes.count]` must be readable and must not be a digit, sign, point or letter
    /// (a NUL or a newline), so that a number at the very end stops there.
    public mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>, final: Bool) throws(KtrdrError) -> Int {
        guard let base = bytes.baseAddress else {
            if final, roles == nil { throw emptyFile() }
            return 0
        }
        var pos = 0
        let end = bytes.count
        if roles == nil {
            if end >= 3, base[0] == 0xEF, base[1] == 0xBB, base[2] == 0xBF { pos = 3 }  // UTF-8 BOM
            let headerEnd = CSVLoader.lineEnd(base, pos, end)
            if headerEnd == end, !final { return 0 }
            roles = try CSVLoader.columnRoles(header: UnsafeBufferPointer(start: base + pos, count: headerEnd - pos), fileName: fileName)
            line = 1
            pos = headerEnd < end ? headerEnd + 1 : end
        }
        return try rows(base, from: pos, end: end, final: final)
    }

    /// The bars parsed so far (all of them after the final feed).
    public mutating func finish() -> Bars {
        defer { ts = []; o = []; h = []; l = []; c = []; v = [] }
        return Bars(timestamps: ts, open: o, high: h, low: l, close: c, volume: v)
    }

    private func emptyFile() -> KtrdrError {
        .dataInvalid(file: fileName, line: 1, column: "header",
                     message: "empty file: expected header \(CSVLoader.requiredColumns.joined(separator: ","))")
    }

    private mutating func rows(_ base: UnsafePointer<UInt8>, from start: Int, end: Int, final: Bool) throws(KtrdrError) -> Int {
        // The columns move into locals for the loop (no exclusivity checks on self per append).
        var ts = self.ts, o = self.o, h = self.h, l = self.l, c = self.c, v = self.v
        self.ts = []; self.o = []; self.h = []; self.l = []; self.c = []; self.v = []
        defer { self.ts = ts; self.o = o; self.h = h; self.l = l; self.c = c; self.v = v }
        var pos = start
        var line = self.line
        defer { self.line = line }
        var row = (Int64(0), 0.0, 0.0, 0.0, 0.0, 0.0)
        let fileName = self.fileName
        let roles = self.roles!
        let fieldCount = roles.count
        let columns = CSVLoader.requiredColumns
        try roles.withUnsafeBufferPointer { (roles: UnsafeBufferPointer<Int>) throws(KtrdrError) in
            while pos < end {
                let eol = CSVLoader.lineEnd(base, pos, end)
                if eol == end, !final { break }  // unfinished line: wait for the rest
                line += 1
                var stop = eol
                if stop > pos, base[stop - 1] == 0x0D { stop -= 1 }  // CRLF
                if stop == pos { pos = eol + 1; continue }  // blank line
                var field = pos
                for k in 0..<fieldCount {
                    let role = roles[k]
                    var fieldEnd = field
                    while fieldEnd < stop, base[fieldEnd] != 0x2C { fieldEnd += 1 }
                    if k < fieldCount - 1, fieldEnd >= stop {
                        throw .dataInvalid(file: fileName, line: line, column: columns[roles[k + 1]],
                                           message: "missing value: expected \(fieldCount) fields, found \(k + 1)")
                    }
                    if role == 0 {
                        guard let t = CSVLoader.timestamp(base, field, fieldEnd) else {
                            throw .dataInvalid(file: fileName, line: line, column: "timestamp",
                                               message: "unparsable timestamp '\(CSVLoader.text(base, field, fieldEnd))': expected ISO-8601 UTC such as 2004-08-19T00:00:00Z or 2004-08-19")
                        }
                        row.0 = t
                    } else {
                        let value = try CSVLoader.number(base, field, fieldEnd, role: role, fileName: fileName, line: line)
                        switch role {
                        case 1: row.1 = value
                        case 2: row.2 = value
                        case 3: row.3 = value
                        case 4: row.4 = value
                        default: row.5 = value
                        }
                    }
                    field = fieldEnd + 1
                }
                if field <= stop {
                    throw .dataInvalid(file: fileName, line: line, column: "-", message: "too many fields: expected \(fieldCount)")
                }
                if let last = ts.last, row.0 <= last {
                    throw .dataInvalid(file: fileName, line: line, column: "timestamp",
                                       message: "timestamp \(UTCTime.iso(row.0)) is not after the previous one \(UTCTime.iso(last)): timestamps must strictly increase")
                }
                if row.2 < row.3 {
                    throw .dataInvalid(file: fileName, line: line, column: "high", message: "high \(row.2) is below low \(row.3)")
                }
                ts.append(row.0); o.append(row.1); h.append(row.2); l.append(row.3); c.append(row.4); v.append(row.5)
                pos = eol + 1
            }
        }
        return min(pos, end)
    }
}
