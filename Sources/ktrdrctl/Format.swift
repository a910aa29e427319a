import Foundation

/// Number formatting for tables and progress lines (no locale dependence).
enum Format {
    static func fixed(_ v: Double, _ digits: Int) -> String {
        guard v.isFinite else { return "—" }
        return String(format: "%.\(digits)f", v)
    }

    static func grouped(_ v: Int) -> String {
        let s = String(abs(v))
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return v < 0 ? "-" + out : out
    }

    static func money(_ v: Double) -> String {
        guard v.isFinite else { return "—" }
        let cents = fixed(abs(v), 2).split(separator: ".")
        let whole = grouped(Int(cents[0]) ?? 0)
        return (v < 0 ? "-" : "") + whole + "." + cents[1]
    }

    static func signedMoney(_ v: Double) -> String { (v >= 0 ? "+" : "") + money(v) }

    static func rate(_ v: Double) -> String {
        if v >= 1e6 { return fixed(v / 1e6, 1) + "M" }
        if v >= 1e3 { return fixed(v / 1e3, 1) + "k" }
        return fixed(v, 0)
    }

    static func optional(_ v: Double?, _ digits: Int = 2, suffix: String = "") -> String {
        v.map { fixed($0, digits) + suffix } ?? "n/a"
    }

    static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let n = s.count
        guard n < width else { return s }
        let fill = String(repeating: " ", count: width - n)
        return right ? fill + s : s + fill
    }
}
