import ArgumentParser
import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrPlugins

/// `ktrdrctl`: the command-line client of ktrdrd.
@main
struct Ktrdrctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ktrdrctl",
        abstract: "Backtest trading strategies with ktrdr.",
        discussion: """
            Exit codes:
              0    success
              1    the run failed (I/O or an unexpected error)
              2    bad command line (usage)
              3    invalid input: strategy file, data file, dates, parameters, insufficient data
              4    not found: strategy, data file, model, plugin or operation
              5    the daemon is not reachable (start it with `ktrdrctl daemon start`)
              6    conflict: the operation already finished (e.g. cancelling a completed one)
              130  cancelled (Ctrl-C)
            """,
        version: "ktrdrctl \(BuildInfo.version) (Swift \(BuildInfo.swiftVersion), plugin ABI \(PluginDescriptor.hostABI))",
        subcommands: [BacktestCommand.self, SweepCommand.self, WalkForwardCommand.self, TrainCommand.self, OpsCommand.self, DaemonCommand.self, WorkersCommand.self, DataCommand.self, StrategiesCommand.self,
                      ModelsCommand.self, PluginsCommand.self]
    )

    /// ArgumentParser's own entry point, with usage errors mapped to exit 2 (the documented
    /// code, as most Unix tools) instead of its default 64, and a misspelled command answered
    /// with the closest one and the list.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let first = arguments.first, !first.hasPrefix("-"), first != "help" {
            let names = configuration.subcommands.compactMap { $0.configuration.commandName }
            if !names.contains(first) {
                let hint = Spelling.closest(to: first, in: names).map { " (did you mean '\($0)'?)" } ?? ""
                printError("error: unknown command '\(first)'\(hint); commands: \(names.joined(separator: ", "))")
                Foundation.exit(ExitStatus.usage)
            }
        }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                printError(fullMessage(for: error))
                Foundation.exit(ExitStatus.usage)
            }
            exit(withError: error)
        }
    }
}

/// Exit codes shared by every subcommand (documented in `ktrdrctl --help` and the README).
enum ExitStatus {
    static let failure: Int32 = 1
    static let usage: Int32 = 2
    static let invalidInput: Int32 = 3
    static let notFound: Int32 = 4
    static let unreachable: Int32 = 5
    static let conflict: Int32 = 6
    static let cancelled: Int32 = 130

    /// A core error's exit code: that of the HTTP status the API gives it (one mapping, `ApiError`).
    static func code(for error: KtrdrError) -> Int32 { code(status: ApiError(error).status, code: error.code) }

    /// The exit code of an error as the API reports it (status and stable code).
    static func code(status: Int?, code: String) -> Int32 {
        if code == "daemon_unreachable" { return unreachable }
        switch status {
        case 404: return notFound
        case 400, 413, 422: return invalidInput
        case 409: return code == "cancelled" ? cancelled : conflict
        case nil where code.hasPrefix("invalid") || code == "validation_error" || code == "bad_request": return invalidInput
        default: return failure
        }
    }
}

/// Prints a core error to stderr with its stable code, and exits with the matching status.
func fail(_ error: KtrdrError) -> ExitCode {
    printError("error [\(error.code)]: \(error)")
    return ExitCode(ExitStatus.code(for: error))
}

func printError(_ text: String) {
    var stderr = StandardError()
    print(text, to: &stderr)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) { KtrdrStdio.writeStderr(string) }
}
