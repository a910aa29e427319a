import KtrdrCore
import XCTest
import KtrdrFiles

final class StrategyFileTests: XCTestCase {
    func issues(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> [ValidationIssue] {
        do {
            _ = try StrategyLoader.parse(yaml, fileName: "s.yaml", expectedName: "s")
            XCTFail("expected validation errors", file: file, line: line)
        } catch let .strategyInvalid(name, issues) {
            XCTAssertEqual(name, "s.yaml", file: file, line: line)
            return issues
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
        return []
    }

    func testShippedStrategiesValidate() throws {
        for name in ["sma_crossover", "rsi_mean_reversion", "neuro_mean_reversion"] {
            let c = try StrategyLoader.load(name: name, directory: Repo.path("strategies"))
            XCTAssertEqual(c.name, name)
        }
    }

    func testEveryProblemIsReportedWithPathAndLine() {
        let yaml = """
            name: s
            plugin: neuro
            colour: blue
            indicators:
              - name: rsi
                feature_id: rsi
                period: -3
              - name: nosuch
                feature_id: x
              - name: sma
                feature_id: close
            fuzzy_sets:
              rsi:
                low: {type: triangular, parameters: [30, 20, 10]}
                mid: {type: gaussian, parameters: [50, 0]}
                odd: {type: wavy, parameters: [1]}
              ghost:
                low: {type: triangular, parameters: [0, 1, 2]}
            model:
              architecture:
                activation: swish
            decisions:
              confidence_threshold: 1.5
            """
        let found = issues(yaml)
        let paths = Set(found.map(\.path))
        for expected in ["colour", "data", "indicators[0].period", "indicators[1].name", "indicators[2].feature_id",
                         "fuzzy_sets.rsi.low.parameters", "fuzzy_sets.rsi.mid.parameters", "fuzzy_sets.rsi.odd.type", "fuzzy_sets.ghost",
                         "model.architecture.activation", "decisions.confidence_threshold", "training"] {
            XCTAssertTrue(paths.contains(expected), "missing issue at \(expected); got \(found.map(\.description).joined(separator: "\n"))")
        }
        let rsiLow = found.first { $0.path == "fuzzy_sets.rsi.low.parameters" }
        XCTAssertEqual(rsiLow?.line, 14)
        XCTAssertTrue(rsiLow?.message.contains("a <= b <= c") == true)
        XCTAssertEqual(found.first { $0.path == "colour" }?.line, 3)
        XCTAssertTrue(found.first { $0.path == "fuzzy_sets.ghost" }?.message.contains("unknown feature 'ghost'") == true)
    }

    func testSyntaxErrorHasLine() {
        let found = issues("name: s\nplugin: [unclosed\n")
        XCTAssertEqual(found.count, 1)
        XCTAssertNotNil(found.first?.line)
        XCTAssertTrue(found.first?.message.contains("YAML syntax error") == true)
    }

    func testNameMustMatchFileAndPluginNameMustBeSafe() {
        let found = issues("name: other\nplugin: ../magic\ndata: {symbols: [A], timeframes: [1d]}\n")
        XCTAssertTrue(found.contains { $0.path == "name" && $0.message.contains("file name 's'") })
        XCTAssertTrue(found.contains { $0.path == "plugin" && $0.message.contains("invalid plugin name '../magic'") })
    }

    /// Plugins own their parameters: unknown keys and bad values are named with their path.
    func testPluginParametersAreCheckedByThePlugin() throws {
        func problems(_ params: String) throws -> [ValidationIssue] {
            let c = try StrategyLoader.parse("name: s\nplugin: sma_crossover\nparams: \(params)\ndata: {symbols: [A], timeframes: [1d]}\n",
                                             fileName: "s.yaml", expectedName: "s")
            do { _ = try compiledIn(c); return [] } catch let KtrdrError.strategyInvalid(_, issues) { return issues }
        }
        XCTAssertEqual(try problems("{fast_period: 10, slow_period: 30}"), [])
        XCTAssertTrue(try problems("{fast_period: 10, slow: 30}").contains { $0.path == "params.slow" && $0.message.contains("fast_period, slow_period") })
        XCTAssertTrue(try problems("{fast_period: 30, slow_period: 10}").contains { $0.path == "params" && $0.message.contains("below slow_period") })
        XCTAssertTrue(try problems("{fast_period: 2.5}").contains { $0.path == "params.fast_period" && $0.message.contains("whole number") })
    }

    func testWrongTypesAreNamed() {
        let found = issues("name: s\nplugin: sma_crossover\nparams: {fast_period: ten}\ndata: {symbols: GOOG, timeframes: [3d]}\ntrading: {whole_units: maybe}\n")
        XCTAssertTrue(found.contains { $0.path == "params.fast_period" && $0.message.contains("expected a number") })
        XCTAssertTrue(found.contains { $0.path == "data.symbols" && $0.message.contains("expected a list") })
        XCTAssertTrue(found.contains { $0.path == "data.timeframes[0]" })
        XCTAssertTrue(found.contains { $0.path == "trading.whole_units" })
    }

    func testUnknownStrategyNamesThePathLookedFor() {
        XCTAssertThrowsError(try StrategyLoader.load(name: "nope", directory: "/tmp/ktrdr-none")) { error in
            XCTAssertEqual(error as? KtrdrError, .strategyNotFound(name: "nope", path: "/tmp/ktrdr-none/nope.yaml"))
        }
    }
}
