import Yams

/// Values given for one run on top of a strategy file: plugin parameters (`--param
/// fast_period=5`, `"params"`) and any other field by its YAML path (`--set
/// decisions.confidence_threshold=0.7`, `"overrides"`). They are written into the file's YAML
/// tree, and the result goes through exactly the checks of a file (the loader's, then the
/// plugin's), so a value given here is never trusted more than one written in the file.
public struct StrategyOverrides: Sendable, Equatable, Codable {
    /// Plugin parameters by name (`params.<name>` in the file).
    public var params: [String: Double]
    /// Scalars by dotted YAML path, as text (numbers, booleans and strings as YAML reads them).
    public var fields: [String: Scalar]

    /// One value given for a YAML path.
    public enum Scalar: Sendable, Equatable, Codable, CustomStringConvertible {
        case number(Double)
        case bool(Bool)
        case string(String)

        public var description: String {
            switch self {
            case let .number(v): return StrategyOverrides.format(v)
            case let .bool(b): return b ? "true" : "false"
            case let .string(s): return s
            }
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .bool(b) } else if let v = try? c.decode(Double.self) { self = .number(v) } else {
                self = .string(try c.decode(String.self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case let .number(v): try c.encode(v)
            case let .bool(b): try c.encode(b)
            case let .string(s): try c.encode(s)
            }
        }

        /// A command-line value: a number, `true`/`false`, else the text itself.
        public static func parse(_ text: String) -> Scalar {
            if let v = Double(text), v.isFinite { return .number(v) }
            if text == "true" || text == "false" { return .bool(text == "true") }
            return .string(text)
        }

        var node: Node {
            switch self {
            case .number, .bool: return Node(description)
            case let .string(s): return Node(s, Tag(.str), .doubleQuoted)
            }
        }
    }

    public init(params: [String: Double] = [:], fields: [String: Scalar] = [:]) {
        self.params = params
        self.fields = fields
    }

    public var isEmpty: Bool { params.isEmpty && fields.isEmpty }

    /// Every path this changes, with the value given (for messages and records).
    public var given: [String: String] {
        var out = fields.mapValues(\.description)
        for (k, v) in params { out["params.\(k)"] = Self.format(v) }
        return out
    }

    /// Whole numbers without a fraction (`5`, not `5.0`): plugins read periods as counts.
    static func format(_ v: Double) -> String {
        v.rounded() == v && Swift.abs(v) < 1e15 ? String(Int64(v)) : "\(v)"
    }

    /// Paths a run may not change: they name the file and the code it runs.
    static let fixedPaths: Set<String> = ["name", "plugin"]

    /// `text` with the overrides written in. Throws `strategyInvalid` naming the path for a
    /// path that cannot be set (through a list or a scalar, an empty segment, `name`, `plugin`).
    public func apply(to text: String, fileName: String) throws(KtrdrError) -> String {
        guard !isEmpty else { return text }
        var root: Node
        do {
            guard let composed = try Yams.compose(yaml: text) else {
                throw KtrdrError.strategyInvalid(file: fileName, issues: [ValidationIssue(path: "", message: "empty strategy file")])
            }
            root = composed
        } catch let e as KtrdrError { throw e } catch {
            // The file itself is broken: the loader reports it with its line.
            return text
        }
        var issues = [ValidationIssue]()
        var all = fields.map { ($0.key, $0.value) }
        all += params.map { ("params.\($0.key)", Scalar.number($0.value)) }
        for (path, value) in all.sorted(by: { $0.0 < $1.0 }) {
            let segments = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !segments.contains(where: \.isEmpty) else {
                issues.append(ValidationIssue(path: path, message: "invalid path '\(path)': expected dotted keys such as decisions.confidence_threshold"))
                continue
            }
            if Self.fixedPaths.contains(path) {
                issues.append(ValidationIssue(path: path, message: "'\(path)' cannot be overridden: it names the strategy file and its plugin"))
                continue
            }
            if !Self.set(&root, segments[...], value.node) {
                issues.append(ValidationIssue(path: path, message: "cannot set '\(path)': a part of it is a list or a value in the file, not a mapping"))
            }
        }
        guard issues.isEmpty else { throw .strategyInvalid(file: fileName, issues: issues) }
        do { return try Yams.serialize(node: root) } catch {
            throw .strategyInvalid(file: fileName, issues: [ValidationIssue(path: "", message: "cannot write the overridden strategy: \(error)")])
        }
    }

    private static func set(_ node: inout Node, _ path: ArraySlice<String>, _ value: Node) -> Bool {
        guard case var .mapping(map) = node, let key = path.first else { return false }
        if path.count == 1 {
            map[key] = value
        } else {
            var child = map[key] ?? Node.mapping(Node.Mapping([]))
            guard set(&child, path.dropFirst(), value) else { return false }
            map[key] = child
        }
        node = .mapping(map)
        return true
    }

    /// A validation failure with each issue on an overridden path saying what was given.
    public func explain(_ error: KtrdrError) -> KtrdrError {
        guard case let .strategyInvalid(file, issues) = error, !isEmpty else { return error }
        let given = self.given
        return .strategyInvalid(file: file, issues: issues.map { issue in
            guard let value = given[issue.path] else { return issue }
            return ValidationIssue(path: issue.path, line: nil, message: "\(issue.message) (given \(value) for this run)")
        })
    }
}
