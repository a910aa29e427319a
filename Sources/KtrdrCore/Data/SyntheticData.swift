#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Deterministic synthetic 1-minute bars: seeded geometric Brownian motion with a
/// realistic intrabar range, prices on a 0.0001 tick. The same seed and size always give
/// byte-identical files, so large data sets are generated on demand, never committed.
public struct SyntheticData: Sendable {
    public var bars: Int
    public var seed: UInt64 = 42
    public var startPrice = 100.0
    /// Annualised drift and volatility of the GBM.
    public var drift = 0.05
    public var volatility = 0.30
    /// First bar: 2020-01-01T00:00:00Z.
    public var startTime: Int64 = 1_577_836_800
    public var barSeconds: Int64 = 60

    public init(bars: Int, seed: UInt64 = 42) {
        self.bars = bars
        self.seed = seed
    }

    /// Generates bars in memory (ticks rounded as in the file, so both are identical).
    public func generate() -> Bars {
        var ts = [Int64](), o = [Double](), h = [Double](), l = [Double](), c = [Double](), v = [Double]()
        ts.reserveCapacity(bars); o.reserveCapacity(bars); h.reserveCapacity(bars)
        l.reserveCapacity(bars); c.reserveCapacity(bars); v.reserveCapacity(bars)
        forEachBar { t, open, high, low, close, volume in
            ts.append(t)
            o.append(Double(open) / 10_000); h.append(Double(high) / 10_000)
            l.append(Double(low) / 10_000); c.append(Double(close) / 10_000)
            v.append(Double(volume))
        }
        return Bars(timestamps: ts, open: o, high: h, low: l, close: c, volume: v)
    }

    /// The CSV text in chunks of about 1 MiB, header first (`body` returns false to stop).
    public func csvChunks(_ body: ([UInt8]) -> Bool) {
        var buffer = [UInt8]()
        buffer.reserveCapacity(1 << 20)
        buffer.append(contentsOf: Array("timestamp,open,high,low,close,volume\n".utf8))
        var going = true
        forEachBar { t, open, high, low, close, volume in
            guard going else { return }
            Self.appendTimestamp(t, to: &buffer)
            buffer.append(0x2C); Self.appendTicks(open, to: &buffer)
            buffer.append(0x2C); Self.appendTicks(high, to: &buffer)
            buffer.append(0x2C); Self.appendTicks(low, to: &buffer)
            buffer.append(0x2C); Self.appendTicks(close, to: &buffer)
            buffer.append(0x2C)
            Self.appendInt(volume, to: &buffer)
            buffer.append(0x0A)
            if buffer.count > (1 << 20) - 128 {
                going = body(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        if going, !buffer.isEmpty { _ = body(buffer) }
    }

    /// Calls `body(timestamp, open, high, low, close, volume)` with prices in ticks (1e-4).
    private func forEachBar(_ body: (Int64, Int64, Int64, Int64, Int64, Int64) -> Void) {
        var rng = SplitMix64(seed: seed)
        let dt = Double(barSeconds) / (365.25 * 86_400)
        let sigma = volatility * dt.squareRoot()
        let mu = (drift - 0.5 * volatility * volatility) * dt
        var closeTicks = Int64((startPrice * 10_000).rounded())
        for i in 0..<bars {
            let open = closeTicks
            var price = Double(open) / 10_000
            price *= exp(mu + sigma * rng.normal())
            let close = max(1, Int64((price * 10_000).rounded()))
            // Intrabar excursions beyond the open/close body, half-normal, about half a step.
            let up = abs(rng.normal()) * 0.5 * sigma, down = abs(rng.normal()) * 0.5 * sigma
            let high = Int64((Double(max(open, close)) * (1 + up)).rounded(.up))
            let low = max(1, Int64((Double(min(open, close)) * (1 - down)).rounded(.down)))
            let volume = 100 + Int64(rng.next() % 5_000)
            body(startTime + Int64(i) * barSeconds, open, high, low, close, volume)
            closeTicks = close
        }
    }

    private static func appendInt(_ value: Int64, to buffer: inout [UInt8]) {
        var digits = (UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0),
                      UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0))
        var n = 0
        var v = value
        withUnsafeMutableBytes(of: &digits) { d in
            repeat { d[n] = UInt8(48 + v % 10); v /= 10; n += 1 } while v > 0
            while n > 0 { n -= 1; buffer.append(d[n]) }
        }
    }

    /// `ticks` as a decimal with exactly four fractional digits.
    private static func appendTicks(_ ticks: Int64, to buffer: inout [UInt8]) {
        appendInt(ticks / 10_000, to: &buffer)
        buffer.append(0x2E)
        let frac = ticks % 10_000
        buffer.append(UInt8(48 + frac / 1000)); buffer.append(UInt8(48 + frac / 100 % 10))
        buffer.append(UInt8(48 + frac / 10 % 10)); buffer.append(UInt8(48 + frac % 10))
    }

    private static func appendTimestamp(_ t: Int64, to buffer: inout [UInt8]) {
        let days = t / 86_400, rem = t % 86_400
        let (y, m, d) = UTCTime.civil(days: days)
        func two(_ v: Int) { buffer.append(UInt8(48 + v / 10)); buffer.append(UInt8(48 + v % 10)) }
        appendInt(Int64(y), to: &buffer)
        buffer.append(0x2D); two(m); buffer.append(0x2D); two(d); buffer.append(0x54)
        two(Int(rem / 3600)); buffer.append(0x3A); two(Int(rem / 60 % 60)); buffer.append(0x3A); two(Int(rem % 60))
        buffer.append(0x5A)
    }
}

/// SplitMix64: small, fast, well-distributed, and identical on every platform.
public struct SplitMix64: Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in (0, 1).
    public mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) * 0x1p-53 }
    /// Standard normal (Box-Muller, one of the pair).
    public mutating func normal() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform()) }
}
