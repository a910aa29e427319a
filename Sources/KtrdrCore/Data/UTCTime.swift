/// Calendar arithmetic on UTC epoch seconds, without Foundation's date formatters
/// (which are slow and locale-sensitive). Proleptic Gregorian calendar.
public enum UTCTime {
    /// Days since 1970-01-01 for a civil date (Hinnant's algorithm).
    public static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Civil date for days since 1970-01-01.
    public static func civil(days z0: Int64) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(yoe + era * 400 + (m <= 2 ? 1 : 0)), Int(m), Int(d))
    }

    static func daysInMonth(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Parses `YYYY-MM-DD`, optionally followed by `T` or a space and `HH:MM[:SS[.fff]]`,
    /// and an optional `Z` or `+00:00`. Only UTC is accepted: a non-zero offset is an error,
    /// because silently shifting bars would misalign them. Returns nil when malformed.
    public static func parse<C: Collection>(_ s: C) -> Int64? where C.Element == UInt8, C.Index == Int {
        var i = s.startIndex
        let end = s.endIndex
        func digits(_ n: Int) -> Int? {
            guard end - i >= n else { return nil }
            var v = 0
            for _ in 0..<n {
                let d = Int(s[i]) &- 48
                guard d >= 0 && d <= 9 else { return nil }
                v = v * 10 + d
                i += 1
            }
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < end, s[i] == c else { return false }
            i += 1
            return true
        }
        guard let y = digits(4), expect(0x2D), let mo = digits(2), expect(0x2D), let d = digits(2),
              (1...12).contains(mo), d >= 1, d <= daysInMonth(y, mo) else { return nil }
        var secs: Int64 = 0
        if i < end, s[i] == 0x54 || s[i] == 0x20 {  // 'T' or ' '
            i += 1
            guard let hh = digits(2), expect(0x3A), let mm = digits(2), hh < 24, mm < 60 else { return nil }
            var ss = 0
            if i < end, s[i] == 0x3A {
                i += 1
                guard let v = digits(2), v < 60 else { return nil }
                ss = v
                if i < end, s[i] == 0x2E {  // fractional seconds must be zero: bars start on whole seconds
                    i += 1
                    var any = false
                    while i < end, s[i] == 0x30 { i += 1; any = true }
                    guard any else { return nil }
                }
            }
            secs = Int64(hh * 3600 + mm * 60 + ss)
        }
        if i < end {
            if s[i] == 0x5A { i += 1 }  // 'Z'
            else if s[i] == 0x2B || s[i] == 0x2D {  // +00:00 / -00:00
                i += 1
                guard let oh = digits(2), expect(0x3A), let om = digits(2), oh == 0, om == 0 else { return nil }
            }
        }
        guard i == end else { return nil }
        return days(year: y, month: mo, day: d) * 86_400 + secs
    }

    public static func parse(_ text: String) -> Int64? { parse(Array(text.utf8)) }

    /// `YYYY-MM-DDTHH:MM:SSZ`.
    public static func iso(_ t: Int64) -> String {
        let days = t >= 0 ? t / 86_400 : (t - 86_399) / 86_400
        let rem = Int(t - days * 86_400)
        let (y, m, d) = civil(days: days)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(rem / 3600, 2)):\(pad(rem / 60 % 60, 2)):\(pad(rem % 60, 2))Z"
    }

    /// `YYYY-MM-DD HH:MM` for progress lines and tables.
    public static func short(_ t: Int64) -> String {
        let s = iso(t)
        let chars = Array(s)
        return String(chars[0..<10]) + " " + String(chars[11..<16])
    }

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
