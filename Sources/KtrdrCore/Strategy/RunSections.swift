import Yams

/// How a strategy runs: its `model:`, `decisions:`, `training:` and `trading:` sections.
enum RunSections {
    static func model(_ node: Node, _ r: YAMLReader) -> ModelConfig? {
        guard let map = r.mapping(node, "model") else { return nil }
        r.checkKeys(map, allowed: ["type", "architecture", "features", "training"], "model")
        var m = ModelConfig()
        if let type = map["type"].flatMap({ r.string($0, "model.type") }) {
            if type == "mlp" { m.type = type } else { r.fail("model.type", map["type"], "unknown model type '\(type)': expected mlp") }
        }
        if let arch = r.mapping(map["architecture"], "model.architecture") {
            r.checkKeys(arch, allowed: ["hidden_layers", "activation", "dropout"], "model.architecture")
            if let layers = r.sequence(arch["hidden_layers"], "model.architecture.hidden_layers") {
                m.hiddenLayers = layers.enumerated().compactMap { i, n in r.int(n, "model.architecture.hidden_layers[\(i)]", range: 1...4096) }
                if m.hiddenLayers.isEmpty { r.fail("model.architecture.hidden_layers", arch["hidden_layers"], "needs at least one layer") }
            }
            if let a = arch["activation"].flatMap({ r.string($0, "model.architecture.activation") }) {
                if ["relu", "tanh", "sigmoid", "leaky_relu"].contains(a) { m.activation = a } else {
                    r.fail("model.architecture.activation", arch["activation"], "unknown activation '\(a)': expected relu, tanh, sigmoid or leaky_relu")
                }
            }
            if let d = arch["dropout"].flatMap({ r.double($0, "model.architecture.dropout", range: 0...0.95) }) { m.dropout = d }
        }
        if let features = r.mapping(map["features"], "model.features") {
            r.checkKeys(features, allowed: ["lookback_periods"], "model.features")
            if let l = features["lookback_periods"].flatMap({ r.int($0, "model.features.lookback_periods", range: 0...100) }) { m.lookbackPeriods = l }
        }
        if let t = r.mapping(map["training"], "model.training") {
            r.checkKeys(t, allowed: ["learning_rate", "batch_size", "epochs", "optimizer"], "model.training")
            if let v = t["learning_rate"].flatMap({ r.double($0, "model.training.learning_rate", range: 1e-9...10) }) { m.learningRate = v }
            if let v = t["batch_size"].flatMap({ r.int($0, "model.training.batch_size", range: 1...1_000_000) }) { m.batchSize = v }
            if let v = t["epochs"].flatMap({ r.int($0, "model.training.epochs", range: 1...100_000) }) { m.epochs = v }
            if let o = t["optimizer"].flatMap({ r.string($0, "model.training.optimizer") }) {
                if ["adam", "sgd"].contains(o) { m.optimizer = o } else { r.fail("model.training.optimizer", t["optimizer"], "unknown optimizer '\(o)': expected adam or sgd") }
            }
        }
        return m
    }

    static func decisions(_ node: Node?, _ r: YAMLReader) -> DecisionConfig {
        var d = DecisionConfig()
        guard let node, let map = r.mapping(node, "decisions") else { return d }
        r.checkKeys(map, allowed: ["confidence_threshold", "position_awareness", "filters"], "decisions")
        if let v = map["confidence_threshold"].flatMap({ r.double($0, "decisions.confidence_threshold", range: 0...1) }) { d.confidenceThreshold = v }
        if let v = map["position_awareness"].flatMap({ r.bool($0, "decisions.position_awareness") }) { d.positionAwareness = v }
        if let f = r.mapping(map["filters"], "decisions.filters") {
            r.checkKeys(f, allowed: ["min_signal_separation"], "decisions.filters")
            if let v = f["min_signal_separation"].flatMap({ r.int($0, "decisions.filters.min_signal_separation", range: 0...1_000_000) }) {
                d.minSignalSeparation = v
            }
        }
        return d
    }

    static func training(_ node: Node, _ r: YAMLReader) -> TrainingConfig? {
        guard let map = r.mapping(node, "training") else { return nil }
        r.checkKeys(map, allowed: ["labels", "data_split", "seed"], "training")
        var t = TrainingConfig()
        if let labels = r.mapping(map["labels"], "training.labels") {
            r.checkKeys(labels, allowed: ["source", "zigzag_threshold", "label_lookahead"], "training.labels")
            if let s = labels["source"].flatMap({ r.string($0, "training.labels.source") }) {
                if s == "zigzag" { t.labelSource = s } else { r.fail("training.labels.source", labels["source"], "unknown label source '\(s)': expected zigzag") }
            }
            if let v = labels["zigzag_threshold"].flatMap({ r.double($0, "training.labels.zigzag_threshold", range: 1e-6...10) }) { t.zigzagThreshold = v }
            if let v = labels["label_lookahead"].flatMap({ r.int($0, "training.labels.label_lookahead", range: 1...100_000) }) { t.labelLookahead = v }
        }
        if let split = r.mapping(map["data_split"], "training.data_split") {
            r.checkKeys(split, allowed: ["train", "validation", "test"], "training.data_split")
            if let v = split["train"].flatMap({ r.double($0, "training.data_split.train", range: 0...1) }) { t.trainSplit = v }
            if let v = split["validation"].flatMap({ r.double($0, "training.data_split.validation", range: 0...1) }) { t.validationSplit = v }
            if let v = split["test"].flatMap({ r.double($0, "training.data_split.test", range: 0...1) }) { t.testSplit = v }
            let sum = t.trainSplit + t.validationSplit + t.testSplit
            if abs(sum - 1) > 1e-9 { r.fail("training.data_split", map["data_split"], "train + validation + test must be 1, got \(sum)") }
        }
        if let v = map["seed"].flatMap({ r.int($0, "training.seed", range: 0...Int(Int32.max)) }) { t.seed = v }
        return t
    }

    static func trading(_ node: Node?, _ r: YAMLReader) -> TradingConfig {
        var t = TradingConfig()
        guard let node, let map = r.mapping(node, "trading") else { return t }
        r.checkKeys(map, allowed: ["position_size", "whole_units", "allow_short", "stop_loss", "take_profit", "trailing_stop", "sizing"], "trading")
        if let v = map["position_size"] {
            if let d = r.double(v, "trading.position_size") {
                if d > 0 && d <= 1 { t.positionSize = d } else { r.fail("trading.position_size", v, "must be in (0, 1], got \(d)") }
            }
        }
        if let v = map["whole_units"].flatMap({ r.bool($0, "trading.whole_units") }) { t.wholeUnits = v }
        if let v = map["allow_short"].flatMap({ r.bool($0, "trading.allow_short") }) { t.allowShort = v }
        t.stopLoss = exit(map["stop_loss"], "trading.stop_loss", r)
        t.takeProfit = exit(map["take_profit"], "trading.take_profit", r)
        t.trailingStop = exit(map["trailing_stop"], "trading.trailing_stop", r)
        if let node = map["sizing"], let m = r.mapping(node, "trading.sizing") {
            r.checkKeys(m, allowed: ["cash", "units", "risk"], "trading.sizing")
            if m.count != 1 { r.fail("trading.sizing", node, "give one of cash, units or risk") }
            if let v = m["cash"].flatMap({ r.double($0, "trading.sizing.cash", range: 0.000001...1e15) }) { t.sizing = .cash(v) }
            if let v = m["units"].flatMap({ r.double($0, "trading.sizing.units", range: 0.000001...1e15) }) { t.sizing = .units(v) }
            if let v = m["risk"].flatMap({ r.double($0, "trading.sizing.risk", range: 0.000001...0.999999) }) { t.sizing = .risk(v) }
            if case .risk? = t.sizing, map["stop_loss"] == nil {
                r.fail("trading.sizing.risk", node, "needs trading.stop_loss: the risk is what the stop loses")
            }
        }
        return t
    }

    /// `0.02` (a fraction of the entry price) or `{atr: 2.5, period: 14}`.
    static func exit(_ node: Node?, _ path: String, _ r: YAMLReader) -> ExitDistance? {
        guard let node else { return nil }
        if case .scalar = node {
            return r.double(node, path, range: 0.000001...9.999999).map { .fraction($0) }
        }
        guard let m = r.mapping(node, path) else { return nil }
        r.checkKeys(m, allowed: ["atr", "period"], path)
        guard let k = r.double(m["atr"], "\(path).atr", range: 0.000001...100) else {
            if m["atr"] == nil { r.fail("\(path).atr", node, "missing: expected a multiple of the ATR, e.g. {atr: 2, period: 14}") }
            return nil
        }
        let period = m["period"].map { r.int($0, "\(path).period", range: 1...10_000) } ?? 14
        return period.map { .atr(multiple: k, period: $0) }
    }
}
