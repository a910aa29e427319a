import ArgumentParser
import Foundation
import KtrdrAPI
import KtrdrClient
import KtrdrCore
import KtrdrPlugins

struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plugins", abstract: "List and hot-reload the daemon's plugins.",
                                                    subcommands: [List.self, Reload.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Loaded plugins: name, kind, version, ABI, file, load time, and the operations running on each generation.")
        @OptionGroup var daemon: DaemonOptions
        @Flag(help: "Print JSON.") var json = false
        func run() throws {
            let list = try withClient { try daemon.connect().plugins() }
            if json { return print(String(decoding: try KtrdrJSON.encoder(pretty: true).encode(list), as: UTF8.self)) }
            print("plugins directory \(list.directory) (host ABI \(list.abi))")
            print(PluginsCommand.table(list.plugins))
            for p in list.problems { print("refused \(p.file): \(p.message)") }
        }
    }

    struct Reload: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load new and rebuilt plugins beside the running ones: new operations use them, running ones finish on the old code.")
        @OptionGroup var daemon: DaemonOptions
        func run() throws {
            let report = try withClient { try daemon.connect().reloadPlugins() }
            for p in report.loaded { print("loaded \(p.name) \(p.version) (generation \(p.generation)) from \(p.file)") }
            print("\(report.loaded.count) loaded, \(report.unchanged.count) unchanged, \(report.problems.count) refused")
            for p in report.problems { printError("refused \(p.file): \(p.message)") }
            if !report.problems.isEmpty { throw ExitCode(ExitStatus.invalidInput) }
        }
    }

    static func table(_ plugins: [PluginStatus]) -> String {
        var rows = [["NAME", "KIND", "VERSION", "GEN", "ABI", "LOADED", "OPERATIONS", "FILE"]]
        for p in plugins {
            rows.append([p.name + (p.current ? "" : " (old)"), p.kind, p.version, "\(p.generation)", p.abi, p.mapped ? p.loadedAt : "on first use",
                         p.operations.isEmpty ? "-" : p.operations.joined(separator: ","), p.file])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { Format.pad($0, $1) }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
