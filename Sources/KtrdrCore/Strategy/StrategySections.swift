import Yams

/// `indicators:` — a list of `{name, feature_id, ...params}`; params flat or under `params:`.
enum IndicatorSection {
    static let reserved: Set<String> = ["open", "high", "low", "close", "volume"]

    static func isFeatureId(_ s: String) -> Bool {
        func letter(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }
        let b = Array(s.utf8)
        guard let first = b.first, letter(first), b.count <= 64 else { return false }
        return b.allSatisfy { letter($0) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D }
    }

    static func parse(_ node: Node?, _ r: YAMLReader) -> [IndicatorSpec] {
        guard let node, let list = r.sequence(node, "indicators") else { return [] }
        var specs = [IndicatorSpec]()
        var seen = Set<String>()
        for (i, item) in list.enumerated() {
            let path = "indicators[\(i)]"
            guard let map = r.mapping(item, path) else { continue }
            let typeName = r.string(r.require(map, "name", path), "\(path).name")
            let kind = typeName.flatMap { IndicatorKind(name: $0) }
            if let typeName, kind == nil {
                r.fail("\(path).name", map["name"], "unknown indicator '\(typeName)': expected one of \(IndicatorKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let featureId = r.string(r.require(map, "feature_id", path), "\(path).feature_id")
            if let featureId {
                if !isFeatureId(featureId) {
                    r.fail("\(path).feature_id", map["feature_id"], "invalid feature_id '\(featureId)': expected ^[a-zA-Z][a-zA-Z0-9_-]*$")
                } else if reserved.contains(featureId) {
                    r.fail("\(path).feature_id", map["feature_id"], "feature_id '\(featureId)' is reserved (open, high, low, close, volume)")
                } else if !seen.insert(featureId).inserted {
                    r.fail("\(path).feature_id", map["feature_id"], "duplicate feature_id '\(featureId)'")
                }
            }
            guard let kind else { continue }
            let allowedParams = kind.parameters.map(\.name) + (kind.usesSource ? ["source"] : [])
            var raw = [(String, Node, String)]()  // key, value, path
            for (k, v) in map {
                let key = k.string ?? "?"
                if ["name", "feature_id"].contains(key) { continue }
                if key == "params" {
                    guard let inner = r.mapping(v, "\(path).params") else { continue }
                    for (ik, iv) in inner { raw.append((ik.string ?? "?", iv, "\(path).params.\(ik.string ?? "?")")) }
                } else {
                    raw.append((key, v, "\(path).\(key)"))
                }
            }
            var values = [String: Double]()
            var source = "close"
            for (key, value, keyPath) in raw {
                guard allowedParams.contains(key) else {
                    r.fail(keyPath, value, "unknown parameter '\(key)' for \(kind.rawValue): expected \(allowedParams.isEmpty ? "none" : allowedParams.joined(separator: ", "))")
                    continue
                }
                if key == "source" {
                    if let s = r.string(value, keyPath) {
                        if reserved.contains(s) { source = s } else { r.fail(keyPath, value, "source must be one of open, high, low, close, volume, got '\(s)'") }
                    }
                    continue
                }
                let def = kind.parameters.first { $0.name == key }!
                if def.isInteger {
                    if let v = r.int(value, keyPath, range: Int(def.minimum)...Int(def.maximum)) { values[key] = Double(v) }
                } else if let v = r.double(value, keyPath, range: def.minimum...def.maximum) {
                    values[key] = v
                }
            }
            if kind == .macd, let f = values["fast_period"] ?? Optional(12), let s = values["slow_period"] ?? Optional(26), f >= s {
                r.fail("\(path)", item, "MACD fast_period (\(Int(f))) must be below slow_period (\(Int(s)))")
            }
            if let featureId { specs.append(IndicatorSpec(kind: kind, featureId: featureId, parameters: values, source: source)) }
        }
        return specs
    }
}

/// `fuzzy_sets:` — feature → set name → `{type, parameters}`, plus optional `input_transform`.
enum FuzzySection {
    static func parse(_ node: Node?, knownOutputs: Set<String>, _ r: YAMLReader) -> [FuzzyInput] {
        guard let node, let map = r.mapping(node, "fuzzy_sets") else { return [] }
        var inputs = [FuzzyInput]()
        for (k, v) in map {
            let featureId = k.string ?? "?"
            let path = "fuzzy_sets.\(featureId)"
            if !knownOutputs.contains(featureId) {
                r.fail(path, k, "fuzzy sets for unknown feature '\(featureId)': expected an indicator output, one of \(knownOutputs.sorted().joined(separator: ", "))")
            }
            guard let sets = r.mapping(v, path) else { continue }
            var transform = FuzzyInput.Transform.identity
            var parsed = [(name: String, membership: Membership)]()
            for (sk, sv) in sets {
                let setName = sk.string ?? "?"
                let setPath = "\(path).\(setName)"
                if setName == "input_transform" {
                    transform = parseTransform(sv, setPath, r) ?? .identity
                    continue
                }
                if !IndicatorSection.isFeatureId(setName) {
                    r.fail(setPath, sk, "invalid set name '\(setName)': expected ^[a-zA-Z][a-zA-Z0-9_-]*$")
                }
                guard let def = r.mapping(sv, setPath) else { continue }
                r.checkKeys(def, allowed: ["type", "parameters"], setPath)
                let type = r.string(r.require(def, "type", setPath), "\(setPath).type")
                let params = r.doubles(r.require(def, "parameters", setPath), "\(setPath).parameters")
                guard let type, let params else { continue }
                switch Membership.make(type: type, parameters: params) {
                case let .success(m): parsed.append((setName, m))
                case let .failure(error): let message = error.message; r.fail(type == "triangular" || type == "trapezoidal" || type == "gaussian" ? "\(setPath).parameters" : "\(setPath).type", def["parameters"] ?? sv, message)
                }
            }
            if parsed.isEmpty, sets.contains(where: { $0.key.string != "input_transform" }) == false {
                r.fail(path, v, "no fuzzy sets defined")
            }
            inputs.append(FuzzyInput(featureId: featureId, transform: transform, sets: parsed))
        }
        return inputs
    }

    private static func parseTransform(_ node: Node, _ path: String, _ r: YAMLReader) -> FuzzyInput.Transform? {
        guard let map = r.mapping(node, path) else { return nil }
        r.checkKeys(map, allowed: ["type", "reference"], path)
        switch r.string(r.require(map, "type", path), "\(path).type") {
        case "identity": return .identity
        case "price_ratio":
            let ref = map["reference"].flatMap { r.string($0, "\(path).reference") } ?? "close"
            guard IndicatorSection.reserved.contains(ref) else {
                r.fail("\(path).reference", map["reference"], "reference must be a price column (open, high, low, close, volume), got '\(ref)'")
                return nil
            }
            return .priceRatio(reference: ref)
        case let other?:
            r.fail("\(path).type", map["type"], "unknown input_transform '\(other)': expected identity or price_ratio")
            return nil
        case nil: return nil
        }
    }
}
