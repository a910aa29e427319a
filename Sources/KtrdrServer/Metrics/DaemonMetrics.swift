import KtrdrAPI
import KtrdrOperations
import Prometheus

/// Prometheus metrics of the daemon: operations by state, bars processed, request latencies.
public final class DaemonMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let requestSeconds: ValueHistogram
    private let requests: Counter
    private static var operations: MetricNameDescriptor { MetricNameDescriptor(namespace: "ktrdr", metricName: "operations", unitName: "count",
                                                         helpText: "Operations by state") }
    private static var bars: MetricNameDescriptor { MetricNameDescriptor(namespace: "ktrdr", metricName: "bars_processed", unitName: "total",
                                                   helpText: "Bars processed by completed backtests since the daemon started") }

    private static var abandoned: MetricNameDescriptor { MetricNameDescriptor(namespace: "ktrdr", metricName: "operations_abandoned",
                                                        helpText: "Operations ended by cancel_timeout whose threads may still run plugin code") }

    public init() {
        requestSeconds = registry.makeValueHistogram(
            descriptor: MetricNameDescriptor(namespace: "ktrdr", subsystem: "http", metricName: "request_duration", unitName: "seconds",
                                             helpText: "HTTP request latency"),
            labels: [], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5])
        requests = registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "ktrdr", subsystem: "http", metricName: "requests",
                                                                         unitName: "total", helpText: "HTTP requests served"))
    }

    public func observeRequest(seconds: Double) {
        requestSeconds.record(seconds)
        requests.increment()
    }

    /// Refreshes the gauges from the manager and renders the text exposition format.
    public func render(manager: OperationManager) async -> String {
        let bars = await manager.barsProcessed
        let counts = (try? await manager.statusCounts()) ?? [:]
        for state in OperationStatus.allCases {
            registry.makeGauge(descriptor: Self.operations, labels: [("state", state.rawValue)]).set(Double(counts[state] ?? 0))
        }
        registry.makeGauge(descriptor: Self.bars).set(Double(bars))
        registry.makeGauge(descriptor: Self.abandoned).set(Double(await manager.abandoned))
        return registry.emitToString()
    }
}
