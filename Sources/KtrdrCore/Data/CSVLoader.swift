#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Strict, fast loader of `timestamp,open,high,low,close,volume` files into `Bars`.
///
/// One pass over the bytes; numbers go through `strtod` (correctly rounded, so every
/// engine starts from bit-identical inputs) after a character check that refuses
/// `nan`, `inf` and hex forms. Every defect is an error naming file, line and column.
public enum CSVLoader {
    static let requiredColumns = ["timestamp", "open", "high", "low", "close", "volume"]
    static let volumeRole = 5

    /// Told how far loading has got: bytes of the file read or parsed, and the file's size.
    /// Returning false cancels the load (it throws `.cancelled`).
    public typealias Observer = (_ phase: LoadPhase, _ done: Int, _ total: Int) -> Bool

    /// Reading the bytes, then parsing them.
    public enum LoadPhase: String, Sendable { case reading, parsing }

    /// Parses CSV text held in a String (tests, small inputs).
    public static func parse(text: String, fileName: String) throws(KtrdrError) -> Bars {
        var bytes = Array(text.utf8)
        let count = bytes.count
        bytes.append(0)
        do {
            return try bytes.withUnsafeBufferPointer { (p: UnsafeBufferPointer<UInt8>) throws(KtrdrError) -> Bars in
                try parse(UnsafeBufferPointer(rebasing: p[0..<count]), fileName: fileName)
            }
        }
    }

    /// Parses bytes; `bytes[bytes.count]` must be readable and be a NUL byte.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, fileName: String, observer: Observer? = nil) throws(KtrdrError) -> Bars {
        var parser = CSVStreamParser(fileName: fileName, expectedBytes: bytes.count)
        var pos = 0, step = 4 << 20
        while true {
            let stop = min(bytes.count, pos + step)
            let final = stop == bytes.count
            let used = try parser.feed(UnsafeBufferPointer(rebasing: bytes[pos..<stop]), final: final)
            if final { break }
            if used == 0 { step *= 2 }  // a line longer than the step
            pos += used
            if let observer, !observer(.parsing, pos, bytes.count) { throw .cancelled }
        }
        return parser.finish()
    }

    /// The header line (without its newline): the six required names, in any order, nothing
    /// else. Returns, for each column, its index in `requiredColumns` (0 is the timestamp).
    public static func columnRoles(header line: UnsafeBufferPointer<UInt8>, fileName: String) throws(KtrdrError) -> [Int] {
        let header = String(decoding: line, as: UTF8.self)
            .trimmingSuffix("\r").split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: " ").lowercased() }
        guard !header.isEmpty, header != [""] else {
            throw .dataInvalid(file: fileName, line: 1, column: "header", message: "empty file: expected header \(requiredColumns.joined(separator: ","))")
        }
        for col in requiredColumns where !header.contains(col) {
            throw .dataInvalid(file: fileName, line: 1, column: col, message: "missing column '\(col)' in header (found: \(header.joined(separator: ",")))")
        }
        for (i, col) in header.enumerated() {
            if !requiredColumns.contains(col) {
                throw .dataInvalid(file: fileName, line: 1, column: col, message: "unexpected column \(i + 1) '\(col)': expected only \(requiredColumns.joined(separator: ","))")
            }
            if header.firstIndex(of: col) != i {
                throw .dataInvalid(file: fileName, line: 1, column: col, message: "duplicate column '\(col)'")
            }
        }
        return header.map { requiredColumns.firstIndex(of: $0)! }
    }

    /// The timestamp of one data line (`field` is the timestamp's column index), or nil.
    public static func timestamp(line: UnsafeBufferPointer<UInt8>, field: Int) -> Int64? {
        guard let base = line.baseAddress else { return nil }
        var start = 0, k = 0
        while k < field {
            guard let comma = line[start...].firstIndex(of: 0x2C) else { return nil }
            start = comma + 1
            k += 1
        }
        var stop = line[start...].firstIndex(of: 0x2C) ?? line.count
        if stop > start, line[stop - 1] == 0x0D { stop -= 1 }
        return timestamp(base, start, stop)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` parsed inline (the common case); anything else goes through
    /// the general `UTCTime.parse`.
    @inline(__always)
    static func timestamp(_ b: UnsafePointer<UInt8>, _ start: Int, _ stop: Int) -> Int64? {
        let p = b + start
        if stop - start == 20, p[4] == 0x2D, p[7] == 0x2D, p[10] == 0x54, p[13] == 0x3A, p[16] == 0x3A, p[19] == 0x5A {
            @inline(__always) func d(_ i: Int) -> Int { Int(p[i] &- 48) }
            let separators: UInt32 = 1 << 4 | 1 << 7 | 1 << 10 | 1 << 13 | 1 << 16
            var ok = true
            for i in 0..<19 where separators & (1 << UInt32(i)) == 0 && p[i] &- 48 > 9 { ok = false }
            if ok {
                let y = d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3), mo = d(5) * 10 + d(6), day = d(8) * 10 + d(9)
                let hh = d(11) * 10 + d(12), mm = d(14) * 10 + d(15), ss = d(17) * 10 + d(18)
                if mo >= 1, mo <= 12, day >= 1, day <= UTCTime.daysInMonth(y, mo), hh < 24, mm < 60, ss < 60 {
                    return UTCTime.days(year: y, month: mo, day: day) * 86_400 + Int64(hh * 3600 + mm * 60 + ss)
                }
                return nil
            }
        }
        return UTCTime.parse(UnsafeBufferPointer(start: p, count: stop - start))
    }

    /// Powers of ten exactly representable as Double.
    private static let exactPowers: [Double] = (0...22).map { k in (0..<k).reduce(1.0) { acc, _ in acc * 10 } }

    @inline(__always)
    static func lineEnd(_ base: UnsafePointer<UInt8>, _ from: Int, _ end: Int) -> Int {
        guard from < end else { return end }
        if let p = memchr(base + from, 0x0A, end - from) {
            return UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self) - base
        }
        return end
    }

    /// Characters allowed in a decimal number: digits, sign, point, exponent.
    @inline(__always)
    private static func isNumberChar(_ b: UInt8) -> Bool {
        (b &- 0x30) <= 9 || b == 0x2E || b == 0x2D || b == 0x2B || b == 0x45 || b == 0x65
    }

    /// A non-negative decimal. Plain decimals with at most 15 significant digits take
    /// Clinger's fast path (an exact integer divided by an exact power of ten: one correctly
    /// rounded operation, so bit-identical to strtod); everything else goes to strtod.
    @inline(__always)
    static func number(_ base: UnsafePointer<UInt8>, _ start: Int, _ stop: Int, role: Int,
                               fileName: String, line: Int) throws(KtrdrError) -> Double {
        var i = start
        var mantissa: UInt64 = 0
        var digits = 0, fraction = 0
        var seenPoint = false, plain = stop > start && stop - start <= 24
        if plain, base[i] == 0x2B { i += 1 }
        while plain, i < stop {
            let c = base[i]
            let d = c &- 0x30
            if d <= 9 {
                if mantissa != 0 || d != 0 { digits += 1 }
                mantissa = mantissa &* 10 &+ UInt64(d)
                if seenPoint { fraction += 1 }
            } else if c == 0x2E, !seenPoint {
                seenPoint = true
            } else {
                plain = false
            }
            i += 1
        }
        // A zero price takes the slow path, which refuses it (a zero volume is fine).
        if plain, mantissa != 0 || role == volumeRole, digits <= 15, fraction <= 22, stop > start, base[stop - 1] != 0x2E || stop - start > 1 {
            return Double(mantissa) / exactPowers[fraction]
        }
        return try slowNumber(base, start, stop, role: role, fileName: fileName, line: line)
    }

    private static func slowNumber(_ base: UnsafePointer<UInt8>, _ start: Int, _ stop: Int, role: Int,
                                   fileName: String, line: Int) throws(KtrdrError) -> Double {
        let column = requiredColumns[role]
        var ok = stop > start
        var k = start
        while ok, k < stop { ok = isNumberChar(base[k]); k += 1 }
        var endPtr: UnsafeMutablePointer<CChar>?
        let value = ok ? (base + start).withMemoryRebound(to: CChar.self, capacity: stop - start + 1) { strtod($0, &endPtr) } : .nan
        if !ok || endPtr.map({ UnsafeRawPointer($0) != UnsafeRawPointer(base + stop) }) ?? true {
            throw .dataInvalid(file: fileName, line: line, column: column,
                               message: stop == start ? "empty value: expected a number" : "unparsable number '\(text(base, start, stop))'")
        }
        if !value.isFinite {
            throw .dataInvalid(file: fileName, line: line, column: column, message: "number out of range '\(text(base, start, stop))'")
        }
        if value < 0 {
            throw .dataInvalid(file: fileName, line: line, column: column,
                               message: column == "volume" ? "negative volume \(value)" : "negative price \(value)")
        }
        if value == 0, role != volumeRole {
            throw .dataInvalid(file: fileName, line: line, column: column,
                               message: "zero price: prices must be positive (a zero would size positions to infinity or drop an entry)")
        }
        return value
    }

    static func text(_ base: UnsafePointer<UInt8>, _ start: Int, _ stop: Int) -> String {
        let shown = String(decoding: UnsafeBufferPointer(start: base + start, count: min(stop - start, 40)), as: UTF8.self)
        return stop - start > 40 ? shown + "…" : shown
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String { String(self).trimmingCharacters(in: set) }
}
