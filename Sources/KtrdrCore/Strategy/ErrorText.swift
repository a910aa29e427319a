/// How a `KtrdrError` crosses the plugin C ABI as text (`ktrdr_error.message`), keeping a
/// strategy's validation problems structured: the host rebuilds the same `strategyInvalid`
/// with every path and line.
public enum ErrorText {
    static let issuesHeader = "ktrdr-issues/1"
    static let separator: Character = "\u{1F}"

    public static func encode(_ error: KtrdrError) -> String {
        guard case let .strategyInvalid(_, issues) = error else { return error.description }
        return ([issuesHeader] + issues.map { "\($0.path)\(separator)\($0.line.map(String.init) ?? "")\(separator)\($0.message)" })
            .joined(separator: "\n")
    }

    /// The issues of an encoded `strategyInvalid`, or nil for a plain message.
    public static func issues(in text: String) -> [ValidationIssue]? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first.map(String.init) == issuesHeader else { return nil }
        lines.removeFirst()
        return lines.map { line in
            let f = line.split(separator: separator, maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            return f.count == 3 ? ValidationIssue(path: f[0], line: Int(f[1]), message: f[2]) : ValidationIssue(path: "", message: String(line))
        }
    }
}
