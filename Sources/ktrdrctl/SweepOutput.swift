import Foundation
import KtrdrAPI
import KtrdrCore

/// A sweep's results as a ranked table, JSON, CSV or Parquet.
struct SweepOutput {
    let result: SweepResult
    let top: Int
    let json: Bool
    let csv: String?
    let parquet: String?

    /// Columns of the table after the parameters (the rank metric first when it is another one).
    static let shown: [Metrics.Field] = [.sharpeRatio, .totalReturnPct, .maxDrawdownPct, .totalTrades, .winRate, .profitFactor]

    func print(seconds: Double?) throws {
        try TableFile.write(table, csv: csv, parquet: parquet)
        if json { return Swift.print(String(decoding: try KtrdrJSON.encoder(pretty: true).encode(result), as: UTF8.self)) }
        let r = result
        let rank = Metrics.Field.allCases.first { $0.json == r.rank }
        let columns = (rank.map { [$0] } ?? []) + Self.shown.filter { $0 != rank }
        var rows = [["RANK"] + r.parameters.map { $0.uppercased() } + columns.map { $0.json.uppercased() }]
        for (i, t) in r.trials.prefix(top).enumerated() {
            let params = r.parameters.map { t.params[$0].map { StrategyOverrides.Scalar.number($0).description } ?? "-" }
            let values = columns.map { f -> String in
                guard let m = t.metrics else { return t.status }
                return Format.optional(m.value(f), f == .totalTrades ? 0 : 3)
            }
            rows.append(["\(i + 1)"] + params + values)
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        for row in rows { Swift.print(zip(row, widths).enumerated().map { Format.pad($0.element.0, $0.element.1, right: $0.offset > 0) }.joined(separator: "  ")) }
        let took = seconds.map { String(format: " in %.1f s (%.1f trials/s)", $0, Double(r.trialsCompleted + r.trialsFailed) / max($0, 1e-3)) } ?? ""
        Swift.print("\n\(r.trialsCompleted) of \(r.trialsTotal) trials completed\(r.trialsFailed > 0 ? ", \(r.trialsFailed) failed" : "")\(took); ranked by \(r.rank) \(r.rankOrder)")
        if let failed = r.trials.first(where: { $0.status != "completed" }), let e = failed.error {
            Swift.print("first failure (trial \(failed.index)): [\(e.code)] \(e.message)")
        }
        if let o = r.overfitting {
            if let dsr = o.deflatedSharpeRatio, let sr0 = o.expectedMaxSharpe, let sr = o.bestSharpe {
                Swift.print(String(format: "deflated Sharpe ratio of the top trial: %.3f (its per-bar Sharpe %.4g against %.4g expected from %d trials with no skill)",
                                   dsr, sr, sr0, o.trials))
            }
            if let pbo = o.pbo, let splits = o.pboSplits, let blocks = o.pboBlocks {
                Swift.print(String(format: "probability of backtest overfitting (CSCV, %d blocks, %d splits): %.3f", blocks, splits, pbo))
            }
        }
        if let rerun = r.rerun { Swift.print("the best as a full backtest: \(rerun)") }
        Swift.print("operation \(r.operationId) (\(r.status.rawValue))")
    }

    /// Every trial in rank order: rank, index, parameters, status, then every metric by its name.
    var table: ExportTable {
        let trials = result.trials
        return ExportTable(columns: [.int64("rank", trials.indices.map { Int64($0 + 1) }), .int64("index", trials.map { Int64($0.index) })]
            + result.parameters.map { p in .double(p, trials.map { $0.params[p] }) }
            + [.string("status", trials.map(\.status))]
            + Metrics.Field.allCases.map { f in .double(f.json, trials.map { $0.metrics?.value(f) }) })
    }
}

/// Writes an export table as CSV or Parquet, by the path's extension or the option used.
enum TableFile {
    static func write(_ table: ExportTable, csv: String?, parquet: String?) throws {
        if let csv { try write(Array(table.csv().utf8), to: csv) }
        if let parquet {
            let bytes: [UInt8]
            do throws(KtrdrError) { bytes = try table.parquet() } catch { throw fail(error) }
            try write(bytes, to: parquet)
        }
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw fail(.io(path: path, message: "cannot write: \(error.localizedDescription)"))
        }
    }
}
