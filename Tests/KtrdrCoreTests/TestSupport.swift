import Foundation
import KtrdrCore
import KtrdrStrategies
import KtrdrTestSupport
import XCTest
import KtrdrFiles

/// Paths inside the repository, found from this file's location.
enum Repo {
    static let root = URL(fileURLWithPath: TestPaths.root)
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
    static func fixture(_ name: String) -> String { path("Tests/KtrdrCoreTests/Fixtures/\(name)") }

    static func bars(_ name: String) throws -> Bars { try CSVLoader.load(path: path("data/\(name).csv")) }
}

/// Reads a numeric CSV (header + rows of doubles, `nan` allowed) into named columns.
func readNumericCSV(_ path: String) throws -> [String: [Double]] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var lines = text.split(separator: "\n")
    let header = lines.removeFirst().split(separator: ",").map(String.init)
    var columns = [String: [Double]]()
    for name in header { columns[name] = [] }
    for line in lines {
        for (name, field) in zip(header, line.split(separator: ",")) {
            columns[name]!.append(field == "nan" ? .nan : Double(field)!)
        }
    }
    return columns
}

/// Runs a process and returns its standard output; fails the test on a non-zero exit.
func runProcess(_ executable: String, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if process.terminationStatus != 0 {
        XCTFail("\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: errData, as: UTF8.self))",
                file: file, line: line)
    }
    return String(decoding: data, as: UTF8.self)
}

/// The strategy of a file, compiled in (the daemon loads the same code as a plugin).
func compiledIn(_ config: StrategyConfig) throws -> any SignalStrategy { try StrategyCatalog.make(config, file: "\(config.name).yaml") }
