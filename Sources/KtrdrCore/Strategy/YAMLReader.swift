import Yams

/// Typed, path-aware reads from a composed YAML tree that collect every problem
/// (with its YAML path and line) instead of stopping at the first.
final class YAMLReader {
    private(set) var issues: [ValidationIssue] = []

    func fail(_ path: String, _ node: Node?, _ message: String) {
        issues.append(ValidationIssue(path: path, line: node?.mark?.line, message: message))
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func mapping(_ node: Node?, _ path: String) -> Node.Mapping? {
        guard let node else { return nil }
        if case let .mapping(m) = node { return m }
        fail(path, node, "expected a mapping, got \(kind(node))")
        return nil
    }

    func sequence(_ node: Node?, _ path: String) -> Node.Sequence? {
        guard let node else { return nil }
        if case let .sequence(s) = node { return s }
        fail(path, node, "expected a list, got \(kind(node))")
        return nil
    }

    /// Reports keys of `map` not in `allowed` (typos must not be silently ignored).
    func checkKeys(_ map: Node.Mapping, allowed: [String], _ path: String) {
        for (key, _) in map {
            let name = key.string ?? "?"
            if !allowed.contains(name) {
                fail(Self.join(path, name), key, "unknown key '\(name)': expected one of \(allowed.joined(separator: ", "))")
            }
        }
    }

    func value(_ map: Node.Mapping?, _ key: String) -> Node? { map?[key] }

    func require(_ map: Node.Mapping?, _ key: String, _ path: String) -> Node? {
        guard let map else { return nil }
        if let v = map[key] { return v }
        fail(Self.join(path, key), .mapping(map), "missing required key '\(key)'")
        return nil
    }

    func string(_ node: Node?, _ path: String) -> String? {
        guard let node else { return nil }
        guard case let .scalar(s) = node, node.null == nil || s.style != .plain else {
            fail(path, node, "expected a string, got \(kind(node))")
            return nil
        }
        return s.string
    }

    func double(_ node: Node?, _ path: String, range: ClosedRange<Double>? = nil) -> Double? {
        guard let node else { return nil }
        guard case .scalar = node, let v = node.float ?? node.int.map(Double.init), v.isFinite else {
            fail(path, node, "expected a number, got \(describe(node))")
            return nil
        }
        if let range, !range.contains(v) {
            fail(path, node, "must be in [\(range.lowerBound), \(range.upperBound)], got \(v)")
            return nil
        }
        return v
    }

    func int(_ node: Node?, _ path: String, range: ClosedRange<Int>? = nil) -> Int? {
        guard let node else { return nil }
        guard case .scalar = node, let v = node.int else {
            fail(path, node, "expected an integer, got \(describe(node))")
            return nil
        }
        if let range, !range.contains(v) {
            fail(path, node, "must be in \(range.lowerBound)...\(range.upperBound), got \(v)")
            return nil
        }
        return v
    }

    func bool(_ node: Node?, _ path: String) -> Bool? {
        guard let node else { return nil }
        guard case .scalar = node, let v = node.bool else {
            fail(path, node, "expected true or false, got \(describe(node))")
            return nil
        }
        return v
    }

    func strings(_ node: Node?, _ path: String) -> [String]? {
        guard let seq = sequence(node, path) else { return nil }
        return seq.enumerated().compactMap { i, item in string(item, "\(path)[\(i)]") }
    }

    func doubles(_ node: Node?, _ path: String) -> [Double]? {
        guard let seq = sequence(node, path) else { return nil }
        var out = [Double]()
        for (i, item) in seq.enumerated() {
            guard let v = double(item, "\(path)[\(i)]") else { return nil }
            out.append(v)
        }
        return out
    }

    private func kind(_ node: Node) -> String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .scalar: node.null != nil ? "null" : "'\(node.string ?? "")'"
        case .alias: "an alias"
        }
    }

    private func describe(_ node: Node) -> String { kind(node) }
}
