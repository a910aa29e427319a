/// Why a membership definition is invalid.
public struct MembershipError: Error, Sendable {
    public let message: String
}

/// A fuzzy membership function (DOMAIN.md §4).
public enum Membership: Sendable, Equatable {
    case triangular(Double, Double, Double)
    case trapezoidal(Double, Double, Double, Double)
    case gaussian(mu: Double, sigma: Double)

    /// Degree of membership of `x`, in [0, 1]; NaN in, NaN out.
    @inline(__always)
    public func degree(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        switch self {
        case let .triangular(a, b, c):
            if x == b { return 1 }
            if x <= a || x >= c { return 0 }
            return x < b ? (x - a) / (b - a) : (c - x) / (c - b)
        case let .trapezoidal(a, b, c, d):
            if x >= b && x <= c { return 1 }
            if x <= a || x >= d { return 0 }
            return x < b ? (x - a) / (b - a) : (d - x) / (d - c)
        case let .gaussian(mu, sigma):
            let z = (x - mu) / sigma
            return exp(-0.5 * z * z)
        }
    }

    /// Builds a membership function from its YAML `type` and `parameters`, or explains
    /// what is wrong (count, order, sigma).
    public static func make(type: String, parameters p: [Double]) -> Result<Membership, MembershipError> {
        switch type {
        case "triangular":
            guard p.count == 3 else { return .failure(MembershipError(message: "triangular needs 3 parameters [a, b, c], got \(p.count)")) }
            guard p[0] <= p[1], p[1] <= p[2], p[0] < p[2] else { return .failure(MembershipError(message: "triangular parameters must satisfy a <= b <= c and a < c, got \(p)")) }
            return .success(.triangular(p[0], p[1], p[2]))
        case "trapezoidal":
            guard p.count == 4 else { return .failure(MembershipError(message: "trapezoidal needs 4 parameters [a, b, c, d], got \(p.count)")) }
            guard p[0] <= p[1], p[1] <= p[2], p[2] <= p[3], p[0] < p[3] else {
                return .failure(MembershipError(message: "trapezoidal parameters must satisfy a <= b <= c <= d and a < d, got \(p)"))
            }
            return .success(.trapezoidal(p[0], p[1], p[2], p[3]))
        case "gaussian":
            guard p.count == 2 else { return .failure(MembershipError(message: "gaussian needs 2 parameters [mu, sigma], got \(p.count)")) }
            guard p[1] > 0 else { return .failure(MembershipError(message: "gaussian sigma must be > 0, got \(p[1])")) }
            return .success(.gaussian(mu: p[0], sigma: p[1]))
        default:
            return .failure(MembershipError(message: "unknown membership type '\(type)': expected triangular, trapezoidal or gaussian"))
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
