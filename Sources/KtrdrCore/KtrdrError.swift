/// One problem found while validating a file, with where it is.
public struct ValidationIssue: Sendable, Equatable, CustomStringConvertible {
    /// YAML path such as `fuzzy_sets.rsi.oversold.parameters`.
    public var path: String
    /// 1-based line in the source file, when the parser knows it.
    public var line: Int?
    public var message: String

    public init(path: String, line: Int? = nil, message: String) {
        self.path = path
        self.line = line
        self.message = message
    }

    public var description: String {
        let at = line.map { " (line \($0))" } ?? ""
        return "\(path.isEmpty ? "<root>" : path)\(at): \(message)"
    }
}

/// Every error the core reports. Each has a stable `code` (used by the API and the CLI)
/// and a message naming what was wrong and where.
public enum KtrdrError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidName(field: String, value: String)
    case invalidTimeframe(field: String, value: String)
    case invalidDate(field: String, value: String)
    case invalidRequest(String)
    /// `available`: the data sets ("SYMBOL timeframe") the directory does hold.
    case dataNotFound(path: String, available: [String] = [])
    /// A malformed data file: file, 1-based line, column name and what was expected.
    case dataInvalid(file: String, line: Int, column: String, message: String)
    /// `available`: the strategies the directory does hold.
    case strategyNotFound(name: String, path: String, available: [String] = [])
    case strategyInvalid(file: String, issues: [ValidationIssue])
    case insufficientData(needed: Int, found: Int, detail: String)
    case unsupported(String)
    /// No loaded plugin has this name; `available` lists the loaded ones.
    case pluginNotFound(name: String, available: [String])
    /// A plugin file failed a check (not a plugin, wrong ABI, wrong build) or its call failed.
    case pluginInvalid(file: String, message: String)
    case modelNotFound(path: String)
    /// A model file or directory that is corrupt or does not fit the strategy.
    case modelInvalid(path: String, message: String)
    case cancelled
    case io(path: String, message: String)
    /// A failure of remote execution, with its code (`worker_lost`, `plugin_mismatch`,
    /// `lease_expired`, or a worker's own code passed through).
    case remote(code: String, message: String)

    public var code: String {
        switch self {
        case .invalidName: "invalid_name"
        case .invalidTimeframe: "invalid_timeframe"
        case .invalidDate: "invalid_date"
        case .invalidRequest: "invalid_request"
        case .dataNotFound: "data_not_found"
        case .dataInvalid: "data_invalid"
        case .strategyNotFound: "strategy_not_found"
        case .strategyInvalid: "strategy_invalid"
        case .insufficientData: "insufficient_data"
        case .unsupported: "unsupported"
        case .pluginNotFound: "plugin_not_found"
        case .pluginInvalid: "plugin_invalid"
        case .modelNotFound: "model_not_found"
        case .modelInvalid: "model_invalid"
        case .cancelled: "cancelled"
        case .io: "io_error"
        case let .remote(code, _): code
        }
    }

    public var description: String {
        switch self {
        case let .invalidName(field, value):
            "\(field): invalid name '\(value)': expected 1-32 characters from [A-Za-z0-9._-], not '.' or '..'"
        case let .invalidTimeframe(field, value):
            "\(field): unknown timeframe '\(value)': expected one of \(Timeframe.allCases.map(\.rawValue).joined(separator: ", "))"
        case let .invalidDate(field, value):
            "\(field): invalid date '\(value)': expected YYYY-MM-DD or ISO-8601 UTC (YYYY-MM-DDTHH:MM:SSZ)"
        case let .invalidRequest(message):
            message
        case let .dataNotFound(path, available):
            "data file not found: \(path)" + Self.alternatives(wanted: Self.dataSet(path), available, noun: "data sets")
        case let .dataInvalid(file, line, column, message):
            line > 0 ? "\(file):\(line): column '\(column)': \(message)" : "\(file): column '\(column)': \(message)"
        case let .strategyNotFound(name, path, available):
            "strategy '\(name)' not found: looked for \(path)" + Self.alternatives(wanted: name, available, noun: "strategies")
        case let .strategyInvalid(file, issues):
            "\(file): \(issues.count) problem\(issues.count == 1 ? "" : "s"):\n" + issues.map { "  - \($0)" }.joined(separator: "\n")
        case let .insufficientData(needed, found, detail):
            "insufficient data: needed \(needed) bars, found \(found) (\(detail))"
        case let .unsupported(message):
            message
        case let .pluginNotFound(name, available):
            "plugin '\(name)' is not loaded; loaded plugins: \(available.isEmpty ? "none" : available.joined(separator: ", "))"
        case let .pluginInvalid(file, message):
            "plugin \(file): \(message)"
        case let .modelNotFound(path):
            "model not found: \(path)"
        case let .modelInvalid(path, message):
            "invalid model \(path): \(message)"
        case .cancelled:
            "cancelled"
        case let .io(path, message):
            "\(path): \(message)"
        case let .remote(_, message):
            message
        }
    }
}

extension KtrdrError {
    /// Errors about a model file rather than the strategy configuration.
    public var isModelProblem: Bool {
        switch self {
        case .modelNotFound, .modelInvalid: true
        default: false
        }
    }
}

extension KtrdrError {
    /// "; did you mean 'x'? available: a, b, …" (at most 20 listed), or nothing when none exist.
    static func alternatives(wanted: String, _ available: [String], noun: String) -> String {
        guard !available.isEmpty else { return "" }
        let hint = Spelling.closest(to: wanted, in: available).map { " (did you mean '\($0)'?)" } ?? ""
        let shown = available.prefix(20).joined(separator: ", ") + (available.count > 20 ? ", … (\(available.count) in all)" : "")
        return "\(hint); \(noun) here: \(shown)"
    }

    /// "SYMBOL timeframe" of a data file path `…/SYMBOL_timeframe.csv`.
    public static func dataSet(_ path: String) -> String {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        let stem = file.hasSuffix(".csv") ? String(file.dropLast(4)) : file
        guard let cut = stem.lastIndex(of: "_") else { return stem }
        return stem[..<cut] + " " + stem[stem.index(after: cut)...]
    }
}
