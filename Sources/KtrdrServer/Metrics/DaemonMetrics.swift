import Foundation
import KtrdrAPI
import KtrdrCore
import KtrdrOperations
import Prometheus
import Synchronization

/// Prometheus metrics of the daemon, named as `promtool check metrics` wants them: counters end
/// in `_total`, gauges carry no reserved suffix, units are in the name. HTTP requests carry
/// `method`, `route` (the documented path template, `unmatched` for anything else, so that
/// labels stay bounded) and `status`.
public final class DaemonMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    /// The counters below are fed from the manager's running totals at each scrape.
    private let seen = Mutex((bars: 0, abandoned: 0))
    private let routes: [[Substring]]

    private static var operations: MetricNameDescriptor { MetricNameDescriptor(namespace: "ktrdr", metricName: "operations", unitName: "",
                                                         helpText: "Operations by state (stored and live)") }
    private static var bars: MetricNameDescriptor { MetricNameDescriptor(namespace: "ktrdr", metricName: "bars_processed", unitName: "total",
                                                   helpText: "Bars processed by completed backtests since the daemon started") }
    private static var abandoned: MetricNameDescriptor { MetricNameDescriptor(namespace: "ktrdr", metricName: "operations_abandoned", unitName: "total",
                                                        helpText: "Operations ended by cancel_timeout whose threads may still have run plugin code") }
    private static var requestSeconds: MetricNameDescriptor { MetricNameDescriptor(namespace: "ktrdr", subsystem: "http", metricName: "request_duration",
                                                             unitName: "seconds", helpText: "HTTP request latency") }
    private static var requests: MetricNameDescriptor { MetricNameDescriptor(namespace: "ktrdr", subsystem: "http", metricName: "requests", unitName: "total",
                                                       helpText: "HTTP requests served") }
    private static let buckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5]

    public init() {
        routes = OpenAPIDocument.pathTemplates.map { $0.split(separator: "/") }
        registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "ktrdr", metricName: "build_info", unitName: "",
                                                            helpText: "Version of this ktrdrd (value is always 1)"),
                           labels: [("version", BuildInfo.version), ("swift", BuildInfo.swiftVersion)]).set(Double(1))
        registry.makeCounter(descriptor: Self.bars).increment(by: Int64(0))
        registry.makeCounter(descriptor: Self.abandoned).increment(by: Int64(0))
    }

    public func observeRequest(method: String, path: String, status: Int, seconds: Double) {
        let labels = [("method", method), ("route", route(of: path)), ("status", String(status))]
        registry.makeValueHistogram(descriptor: Self.requestSeconds, labels: labels, buckets: Self.buckets).record(seconds)
        registry.makeCounter(descriptor: Self.requests, labels: labels).increment()
    }

    /// The documented template `path` matches (`/api/v1/operations/{id}`), or `unmatched`.
    func route(of path: String) -> String {
        let parts = path.split(separator: "/")
        for template in routes where template.count == parts.count {
            if zip(template, parts).allSatisfy({ t, p in t.first == "{" || t == p }) { return "/" + template.joined(separator: "/") }
        }
        return "unmatched"
    }

    /// Refreshes the metrics from the manager and renders the text exposition format.
    public func render(manager: OperationManager) async -> String {
        let bars = await manager.barsProcessed
        let abandoned = await manager.abandoned
        let counts = (try? await manager.statusCounts()) ?? [:]
        for state in OperationStatus.allCases {
            registry.makeGauge(descriptor: Self.operations, labels: [("state", state.rawValue)]).set(Double(counts[state] ?? 0))
        }
        let (newBars, newAbandoned) = seen.withLock { s in
            defer { s = (max(s.bars, bars), max(s.abandoned, abandoned)) }
            return (max(0, bars - s.bars), max(0, abandoned - s.abandoned))
        }
        registry.makeCounter(descriptor: Self.bars).increment(by: Int64(newBars))
        registry.makeCounter(descriptor: Self.abandoned).increment(by: Int64(newAbandoned))
        return registry.emitToString()
    }
}
