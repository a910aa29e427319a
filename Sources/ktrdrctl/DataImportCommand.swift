import ArgumentParser
import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrDefaults
import KtrdrFiles
import KtrdrPlugins

extension DataCommand {
    /// `ktrdrctl data import FILE --format yahoo|binance|generic --symbol S --timeframe TF`.
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert a Yahoo, Binance or other CSV of bars into the data directory.",
            discussion: """
                Writes <data-dir>/<SYMBOL>_<timeframe>.csv in ktrdr's shape and, beside it,
                <SYMBOL>_<timeframe>.import.json: the source and its SHA-256, the column mapping, the
                time zone and every row left out. Times with an offset are used as given; times
                without one are read in --tz (default UTC; a local time the zone skips or repeats is
                an error); a date alone is that day at 00:00 UTC. Yahoo's null rows and exact
                duplicates are left out and listed; any other defect (a bad price, high below low,
                conflicting duplicates, times out of order) stops the import naming the line and
                column, and nothing is written. A descending file is written ascending.
                """)
        @Argument(help: "The file to import.") var file: String
        @Option(help: "yahoo, binance or generic.") var format: String
        @Option(help: "Symbol of the written file.") var symbol: String
        @Option(help: "Timeframe of the bars (1m, 5m, 15m, 30m, 1h, 4h, 1d, 1w, 1M).") var timeframe: String
        @Option(help: "IANA time zone of times without an offset, e.g. America/New_York.") var tz: String?
        @Option(help: "Directory of data files.") var dataDir = KtrdrDefaults.dataDirectory
        @Flag(help: "Replace an existing data file of the same symbol and timeframe.") var force = false

        func run() throws {
            do throws(KtrdrError) {
                try Names.check(symbol, field: "--symbol")
                let tf = try Names.timeframe(timeframe)
                guard let kind = DataFormat(rawValue: format) else {
                    throw .invalidRequest("--format '\(format)': expected \(DataFormat.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let zone: TimeZone? = try tz.map { name throws(KtrdrError) in
                    guard let z = TimeZone(identifier: name) else {
                        throw .invalidRequest("--tz '\(name)': not a time zone this machine knows (IANA names such as America/New_York, Europe/London, UTC)")
                    }
                    return z
                }
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw FileManager.default.fileExists(atPath: file) ? .io(path: file, message: "cannot read the file") : .dataNotFound(path: file)
                }
                let target = try Backtester.dataPath(symbol: symbol, timeframe: tf, dataDirectory: dataDir)
                guard force || !FileManager.default.fileExists(atPath: target) else {
                    throw .invalidRequest("\(target) exists; give --force to replace it")
                }
                let started = KtrdrStdio.now()
                let (csv, converted) = try DataImport.convert(text: String(decoding: data, as: UTF8.self), file: file, format: kind,
                                                           timeZone: zone, symbol: symbol, timeframe: tf)
                var record = converted
                record.sourceSha256 = Checksum.sha256(data)
                let sidecar = String(target.dropLast(4)) + ".import.json"
                try Self.write(Data(csv.utf8), to: target)
                do { try Self.write(try KtrdrJSON.encoder(pretty: true).encode(record), to: sidecar) } catch let e as KtrdrError { throw e } catch {
                    throw .io(path: sidecar, message: "\(error)")
                }
                print("wrote \(target): \(Format.grouped(record.rowsWritten)) bars, \(record.first ?? "—") → \(record.last ?? "—") "
                    + "in \(Format.fixed(KtrdrStdio.now() - started, 2)) s (\(record.format), times in \(record.timeZone))")
                print("  columns: " + ["timestamp", "open", "high", "low", "close", "volume"].map { "\($0) ← \(record.columns[$0] ?? "-")" }.joined(separator: ", ")
                    + (record.unusedColumns.isEmpty ? "" : "; not used: \(record.unusedColumns.joined(separator: ", "))"))
                if record.reversed { print("  the source was in descending time order; written ascending") }
                if record.skippedCount > 0 {
                    print("  left out \(record.skippedCount) rows: " + record.skipped.prefix(5).map { "line \($0.line) (\($0.message))" }.joined(separator: ", ")
                        + (record.skippedCount > 5 ? ", … (all in \(sidecar))" : ""))
                }
                let audit = DataAudit.run(text: csv, timeframe: tf)
                let gaps = ["weekend", "overnight", "holiday", "unexplained"].compactMap { k in audit.gaps[k].map { "\(k) \($0.gaps)" } }
                print("  gaps against \(tf.rawValue): " + (gaps.isEmpty ? "none" : gaps.joined(separator: ", ")) + " (ktrdrctl data check \(target))")
                for w in audit.warnings { print("  warning: \(w)") }
                print("  record: \(sidecar)")
            } catch {
                throw fail(error)
            }
        }

        /// Writes through a temporary file renamed into place.
        static func write(_ data: Data, to path: String) throws(KtrdrError) {
            let temporary = path + ".tmp-\(getpid())"
            guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o644]) else {
                throw .io(path: temporary, message: "cannot write: \(String(cString: strerror(errno)))")
            }
            guard rename(temporary, path) == 0 else {
                let message = String(cString: strerror(errno))
                unlink(temporary)
                throw .io(path: path, message: "cannot write: \(message)")
            }
        }
    }
}
