import Foundation

/// The few distribution functions QA statistics need: the standard normal quantile, the regularized
/// incomplete beta function and its inverse, and the binomial distribution. Pure; accurate to about
/// 1e-12 over the ranges QA uses (proportions of up to billions of trials).
public enum Distributions {
    /// The `p`-quantile (0…1) of values already sorted ascending, by the nearest-rank method (the
    /// smallest value with at least `p` of the values at or below it); `sorted` must not be empty.
    /// One definition for every median and p90 Warden shows, so the dashboards and the quality
    /// page agree on the same cases.
    public static func nearestRank(sorted: [Int64], _ p: Double) -> Int64 {
        precondition(!sorted.isEmpty, "a quantile of no values")
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// The standard normal distribution function Φ(x).
    public static func normalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// The standard normal quantile Φ⁻¹(p) for 0 < p < 1 (Acklam's rational approximation, then one
    /// Halley step against `erfc`, which brings it to full double precision).
    public static func normalQuantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "a normal quantile needs 0 < p < 1")
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                 -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        var x: Double
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - low {
            let q = p - 0.5
            let r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let e = normalCDF(x) - p
        let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        x -= u / (1 + x * u / 2)
        return x
    }

    /// The two-sided critical value for a confidence level: z with P(|Z| ≤ z) = confidence.
    public static func z(confidence: Double) -> Double {
        precondition(confidence > 0 && confidence < 1, "a confidence level is between 0 and 1")
        return normalQuantile(1 - (1 - confidence) / 2)
    }

    /// The regularized incomplete beta function I_x(a, b) (Lentz's continued fraction).
    public static func incompleteBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        precondition(a > 0 && b > 0, "the beta function needs a, b > 0")
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x))
        // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
        if x < (a + 1) / (a + b + 2) { return front * continuedFraction(x, a, b) / a }
        return 1 - front * continuedFraction(1 - x, b, a) / b
    }

    private static func continuedFraction(_ x: Double, _ a: Double, _ b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var result = d
        for m in 1...10_000 {
            let m = Double(m)
            let even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + even * d
            if abs(d) < tiny { d = tiny }
            c = 1 + even / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            result *= d * c
            let odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + odd * d
            if abs(d) < tiny { d = tiny }
            c = 1 + odd / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let step = d * c
            result *= step
            if abs(step - 1) < 1e-15 { break }
        }
        return result
    }

    /// The p-quantile of the Beta(a, b) distribution: the x with I_x(a, b) = p (bisection to the
    /// limit of double precision; I is increasing in x).
    public static func betaQuantile(_ p: Double, _ a: Double, _ b: Double) -> Double {
        if p <= 0 { return 0 }
        if p >= 1 { return 1 }
        var low = 0.0
        var high = 1.0
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if middle == low || middle == high { break }
            if incompleteBeta(middle, a, b) < p { low = middle } else { high = middle }
        }
        return (low + high) / 2
    }

    /// P(X ≤ k) for X ~ Binomial(n, p).
    public static func binomialCDF(_ k: Int, trials n: Int, probability p: Double) -> Double {
        if k < 0 { return 0 }
        if k >= n { return 1 }
        return incompleteBeta(1 - p, Double(n - k), Double(k + 1))
    }
}
