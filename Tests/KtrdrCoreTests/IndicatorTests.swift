import KtrdrCore
import XCTest

/// Every indicator against TA-Lib (or an independent numpy computation for the ones TA-Lib
/// lacks) on both shipped data files: identical NaN positions, and values within 1e-9
/// (relative for magnitudes above 1, so OBV's 1e9-scale sums are held to the same digits).
final class IndicatorTests: XCTestCase {
    /// Fixture column → (indicator, output index).
    static let cases: [(column: String, spec: IndicatorSpec, output: Int)] = [
        ("sma20", IndicatorSpec(kind: .sma, featureId: "x"), 0),
        ("ema20", IndicatorSpec(kind: .ema, featureId: "x"), 0),
        ("rsi14", IndicatorSpec(kind: .rsi, featureId: "x"), 0),
        ("macd", IndicatorSpec(kind: .macd, featureId: "x"), 0),
        ("macd_signal", IndicatorSpec(kind: .macd, featureId: "x"), 1),
        ("macd_hist", IndicatorSpec(kind: .macd, featureId: "x"), 2),
        ("bb_upper", IndicatorSpec(kind: .bollingerBands, featureId: "x"), 0),
        ("bb_middle", IndicatorSpec(kind: .bollingerBands, featureId: "x"), 1),
        ("bb_lower", IndicatorSpec(kind: .bollingerBands, featureId: "x"), 2),
        ("atr14", IndicatorSpec(kind: .atr, featureId: "x"), 0),
        ("stoch_k", IndicatorSpec(kind: .stochastic, featureId: "x"), 0),
        ("stoch_d", IndicatorSpec(kind: .stochastic, featureId: "x"), 1),
        ("willr14", IndicatorSpec(kind: .williamsR, featureId: "x"), 0),
        ("cci20", IndicatorSpec(kind: .cci, featureId: "x"), 0),
        ("roc10", IndicatorSpec(kind: .roc, featureId: "x"), 0),
        ("mom10", IndicatorSpec(kind: .momentum, featureId: "x"), 0),
        ("obv", IndicatorSpec(kind: .obv, featureId: "x"), 0),
        ("adx14", IndicatorSpec(kind: .adx, featureId: "x"), 0),
        ("mfi14", IndicatorSpec(kind: .mfi, featureId: "x"), 0),
        ("sar", IndicatorSpec(kind: .parabolicSAR, featureId: "x"), 0),
        ("vwap20", IndicatorSpec(kind: .vwap, featureId: "x"), 0),
        ("donchian_upper", IndicatorSpec(kind: .donchianChannels, featureId: "x"), 0),
        ("donchian_middle", IndicatorSpec(kind: .donchianChannels, featureId: "x"), 1),
        ("donchian_lower", IndicatorSpec(kind: .donchianChannels, featureId: "x"), 2),
        ("keltner_upper", IndicatorSpec(kind: .keltnerChannels, featureId: "x"), 0),
        ("keltner_middle", IndicatorSpec(kind: .keltnerChannels, featureId: "x"), 1),
        ("keltner_lower", IndicatorSpec(kind: .keltnerChannels, featureId: "x"), 2),
    ]

    func testGOOGDailyMatchesTALib() throws { try check("GOOG_1d") }
    func testEURUSDHourlyMatchesTALib() throws { try check("EURUSD_1h") }

    func testEveryIndicatorKindIsCovered() {
        let covered = Set(Self.cases.map(\.spec.kind))
        XCTAssertEqual(covered, Set(IndicatorKind.allCases), "an indicator has no reference test")
    }

    func testLookbackMatchesFirstDefinedValue() throws {
        let bars = try Repo.bars("GOOG_1d")
        for kind in IndicatorKind.allCases {
            let spec = IndicatorSpec(kind: kind, featureId: "x")
            for (name, values) in spec.compute(bars) {
                XCTAssertEqual(values.firstIndex { !$0.isNaN }, spec.lookback, "\(kind) \(name)")
            }
        }
    }

    private func check(_ dataset: String) throws {
        let bars = try Repo.bars(dataset)
        let reference = try readNumericCSV(Repo.fixture("indicators_\(dataset).csv"))
        XCTAssertEqual(Set(reference.keys), Set(Self.cases.map(\.column)))
        for (column, spec, output) in Self.cases {
            let expected = try XCTUnwrap(reference[column], column)
            let got = spec.compute(bars)[output].values
            XCTAssertEqual(got.count, expected.count, column)
            var worst = 0.0, mismatches = 0
            for i in 0..<expected.count {
                if expected[i].isNaN || got[i].isNaN {
                    if expected[i].isNaN != got[i].isNaN {
                        mismatches += 1
                        if mismatches <= 3 { XCTFail("\(dataset) \(column)[\(i)]: NaN position differs: TA-Lib \(expected[i]), ours \(got[i])") }
                    }
                    continue
                }
                let err = abs(got[i] - expected[i]) / max(1, abs(expected[i]))
                worst = max(worst, err)
                if err > 1e-9 {
                    mismatches += 1
                    if mismatches <= 3 { XCTFail("\(dataset) \(column)[\(i)]: TA-Lib \(expected[i]), ours \(got[i])") }
                }
            }
            XCTAssertEqual(mismatches, 0, "\(dataset) \(column): \(mismatches) mismatches, worst \(worst)")
        }
    }
}
