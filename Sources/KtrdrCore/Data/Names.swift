/// Validation of every name that may end up in a file path (symbols, strategy,
/// model and plugin names). Checked before any path is built.
public enum Names {
    /// `^[A-Za-z0-9._-]{1,32}$`, and not `.` or `..`.
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...32).contains(bytes.count), name != ".", name != ".." else { return false }
        return bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == 0x2E || b == 0x5F || b == 0x2D
        }
    }

    /// Throws `KtrdrError.invalidName` unless `name` is valid. `field` names the request field.
    public static func check(_ name: String, field: String) throws(KtrdrError) {
        guard isValid(name) else {
            throw .invalidName(field: field, value: name)
        }
    }

    /// Parses a timeframe or throws, listing the known ones.
    public static func timeframe(_ text: String, field: String = "timeframe") throws(KtrdrError) -> Timeframe {
        guard let tf = Timeframe(rawValue: text) else { throw .invalidTimeframe(field: field, value: text) }
        return tf
    }
}
