import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrFiles

/// The strategy files of a directory, each loaded and checked: what `GET /strategies`,
/// `strategies.list` and `ktrdrctl strategies list` show.
public enum StrategyCatalog {
    public static func list(directory: String) -> [StrategyInfo] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
        return files.map { file in
            do {
                let c = try StrategyLoader.load(path: (directory as NSString).appendingPathComponent(file))
                return StrategyInfo(name: c.name, version: c.version, description: c.description, plugin: c.plugin, symbols: c.symbols,
                                    timeframes: c.timeframes.map(\.rawValue), valid: true, problems: nil)
            } catch {
                return StrategyInfo(name: String(file.dropLast(5)), symbols: [], timeframes: [], valid: false, problems: ["\(error)"])
            }
        }
    }
}
