import KtrdrCore
import XCTest
import KtrdrFiles

/// `--param`/`--set` and the API's `params`/`overrides`: written into the YAML tree, then
/// checked exactly as a file (`StrategyOverrides`).
final class StrategyOverridesTests: XCTestCase {
    let file = """
        name: s
        plugin: sma_crossover
        params:
          fast_period: 10
          slow_period: 30
        data: {symbols: [GOOG], timeframes: [1d]}
        decisions:
          confidence_threshold: 0.5
        """

    func load(_ o: StrategyOverrides) throws(KtrdrError) -> StrategyConfig {
        try StrategyLoader.parse(file, fileName: "s.yaml", expectedName: "s", overrides: o)
    }

    func testParamsAndFieldsAreWrittenOverTheFile() throws {
        let c = try load(StrategyOverrides(params: ["fast_period": 5, "extra": 2.5],
                                           fields: ["decisions.confidence_threshold": .number(0.7), "decisions.position_awareness": .bool(false),
                                                    "decisions.filters.min_signal_separation": .number(3)]))
        XCTAssertEqual(c.params, ["fast_period": 5, "slow_period": 30, "extra": 2.5])
        XCTAssertEqual(c.decisions.confidenceThreshold, 0.7)
        XCTAssertFalse(c.decisions.positionAwareness)
        XCTAssertEqual(c.decisions.minSignalSeparation, 3, "a missing mapping on the path is created")
        XCTAssertTrue(c.source.contains("fast_period: 5"), "whole numbers are written without a fraction: \(c.source)")
        // The effective text is itself a valid strategy file that gives the same configuration.
        XCTAssertEqual(try StrategyLoader.parse(c.source, fileName: "s.yaml", expectedName: "s"), c)
    }

    func testNoOverridesLeavesTheTextUntouched() throws {
        let c = try load(StrategyOverrides())
        XCTAssertEqual(c.source, file)
    }

    func testBadValuesAreNamedWithWhatWasGiven() {
        func issues(_ o: StrategyOverrides) -> [ValidationIssue] {
            do { _ = try load(o); XCTFail("expected a refusal"); return [] } catch let .strategyInvalid(_, issues) { return issues } catch {
                XCTFail("\(error)"); return []
            }
        }
        let typed = issues(StrategyOverrides(fields: ["decisions.confidence_threshold": .string("high")]))
        XCTAssertEqual(typed.map(\.path), ["decisions.confidence_threshold"])
        XCTAssertTrue(typed[0].message.contains("expected a number") && typed[0].message.contains("given high for this run"), typed[0].message)
        let unknownKey = issues(StrategyOverrides(fields: ["decisions.confidance_threshold": .number(0.7)]))
        XCTAssertEqual(unknownKey.first?.path, "decisions.confidance_threshold")
        XCTAssertTrue(unknownKey.first?.message.contains("unknown key") == true, "\(unknownKey)")
        XCTAssertEqual(issues(StrategyOverrides(fields: ["plugin": .string("rsi_mean_reversion")])).first?.path, "plugin")
        XCTAssertEqual(issues(StrategyOverrides(fields: ["data.symbols.x": .number(1)])).first?.path, "data.symbols.x")
        XCTAssertEqual(issues(StrategyOverrides(fields: ["decisions..x": .number(1)])).first?.path, "decisions..x")
    }

    func testUnknownPluginParameterSuggestsTheClosestName() throws {
        let c = try load(StrategyOverrides(params: ["fast_perod": 5]))
        do {
            _ = try c.parameters(defaults: ["fast_period": 10, "slow_period": 30], file: "s.yaml")
            XCTFail("expected a refusal")
        } catch let .strategyInvalid(_, issues) {
            XCTAssertEqual(issues.map(\.path), ["params.fast_perod"])
            XCTAssertTrue(issues[0].message.contains("did you mean 'fast_period'?"), issues[0].message)
        }
    }

    func testCommandLineValuesAndSpelling() {
        XCTAssertEqual(StrategyOverrides.Scalar.parse("0.7"), .number(0.7))
        XCTAssertEqual(StrategyOverrides.Scalar.parse("true"), .bool(true))
        XCTAssertEqual(StrategyOverrides.Scalar.parse("nan"), .string("nan"), "non-finite numbers stay text and fail the number check")
        XCTAssertEqual(StrategyOverrides.Scalar.parse("adam"), .string("adam"))
        XCTAssertEqual(Spelling.closest(to: "symbl", in: ["strategy_name", "symbol", "timeframe"]), "symbol")
        XCTAssertNil(Spelling.closest(to: "colour", in: ["strategy_name", "symbol", "timeframe"]))
    }
}
