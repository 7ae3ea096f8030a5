import Foundation

/// An interval estimate of a proportion.
public struct Interval: Sendable, Equatable, Codable {
    public var lower: Double
    public var upper: Double

    public init(lower: Double, upper: Double) {
        self.lower = lower
        self.upper = upper
    }

    public func contains(_ value: Double) -> Bool { lower <= value && value <= upper }
}

/// A count of successes (correct decisions, violations found) out of trials, with the intervals QA
/// reports: Wilson's score interval (the default: honest near 0 and 1, where Wald's is not),
/// Clopper–Pearson's exact interval, and Wald's for comparison.
public struct Proportion: Sendable, Equatable {
    public var successes: Int
    public var trials: Int

    public init(successes: Int, trials: Int) {
        precondition(trials >= 0 && successes >= 0 && successes <= trials, "a proportion needs 0 ≤ successes ≤ trials")
        self.successes = successes
        self.trials = trials
    }

    /// The point estimate (nil with no trials).
    public var estimate: Double? { trials == 0 ? nil : Double(successes) / Double(trials) }

    /// Wilson's score interval.
    public func wilson(confidence: Double = 0.95) -> Interval? {
        guard trials > 0 else { return nil }
        let z = Distributions.z(confidence: confidence)
        let n = Double(trials)
        let p = Double(successes) / n
        let z2 = z * z
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        return Interval(lower: max(0, centre - half), upper: min(1, centre + half))
    }

    /// The Clopper–Pearson exact interval (two-sided, from beta quantiles).
    public func clopperPearson(confidence: Double = 0.95) -> Interval? {
        guard trials > 0 else { return nil }
        let alpha = 1 - confidence
        let k = Double(successes)
        let n = Double(trials)
        let lower = successes == 0 ? 0 : Distributions.betaQuantile(alpha / 2, k, n - k + 1)
        let upper = successes == trials ? 1 : Distributions.betaQuantile(1 - alpha / 2, k + 1, n - k)
        return Interval(lower: lower, upper: upper)
    }

    /// Wald's interval p ± z·√(p(1−p)/n), clipped to [0, 1] (for comparison; too narrow near 0 and 1).
    public func wald(confidence: Double = 0.95) -> Interval? {
        guard let p = estimate else { return nil }
        let half = Distributions.z(confidence: confidence) * (p * (1 - p) / Double(trials)).squareRoot()
        return Interval(lower: max(0, p - half), upper: min(1, p + half))
    }

    /// The exact one-sided upper bound: the largest rate still consistent with seeing this few
    /// successes (`1 − α^(1/n)` when there are none; the rule of three, 3/n, approximates it).
    public func exactUpperBound(confidence: Double = 0.95) -> Double? {
        guard trials > 0 else { return nil }
        if successes == trials { return 1 }
        return Distributions.betaQuantile(confidence, Double(successes + 1), Double(trials - successes))
    }

    /// Whether two proportions differ beyond noise: the two-sided p-value of the pooled two-proportion
    /// z-test (nil when either has no trials or the pooled rate is 0 or 1, where nothing can differ).
    public func pValue(against other: Proportion) -> Double? {
        guard trials > 0, other.trials > 0 else { return nil }
        let pooled = Double(successes + other.successes) / Double(trials + other.trials)
        guard pooled > 0, pooled < 1 else { return nil }
        let se = (pooled * (1 - pooled) * (1 / Double(trials) + 1 / Double(other.trials))).squareRoot()
        let z = (Double(successes) / Double(trials) - Double(other.successes) / Double(other.trials)) / se
        return erfc(abs(z) / 2.0.squareRoot())
    }
}

/// How many items to sample.
public enum SampleSize {
    /// The sample that estimates a proportion within ±`margin` at `confidence`: n₀ = z²·p(1−p)/E²,
    /// with the finite-population correction n = n₀ / (1 + (n₀ − 1)/N) when the population is known,
    /// rounded up (p = 0.5 is the safe guess when nothing is known). Never more than the population.
    public static func proportion(margin: Double, confidence: Double = 0.95, expected p: Double = 0.5, population: Int? = nil) -> Int {
        precondition(margin > 0 && margin < 1 && p > 0 && p < 1, "a sample size needs 0 < margin < 1 and 0 < p < 1")
        let z = Distributions.z(confidence: confidence)
        let n0 = z * z * p * (1 - p) / (margin * margin)
        guard let population else { return Int(n0.rounded(.up)) }
        guard population > 0 else { return 0 }
        let n = n0 / (1 + (n0 - 1) / Double(population))
        return min(population, Int(n.rounded(.up)))
    }

    /// The smallest sample with no defects that shows, at `confidence` (one-sided, exact), that the
    /// defect rate is at most `rate`: the least n with (1 − rate)ⁿ ≤ 1 − confidence.
    public static func zeroDefect(rate: Double, confidence: Double = 0.95) -> Int {
        precondition(rate > 0 && rate < 1 && confidence > 0 && confidence < 1, "rate and confidence are between 0 and 1")
        var n = Int((log(1 - confidence) / log1p(-rate)).rounded(.up))
        // Guard the rounding of the logarithms: the least n that meets the bound exactly.
        while n > 1 && pow(1 - rate, Double(n - 1)) <= 1 - confidence { n -= 1 }
        while pow(1 - rate, Double(n)) > 1 - confidence { n += 1 }
        return n
    }

    /// The operating characteristic of an acceptance plan: the probability that a sample of `n`
    /// items with a true defect rate `rate` shows at most `acceptanceNumber` defects.
    public static func acceptanceProbability(n: Int, acceptanceNumber: Int, rate: Double) -> Double {
        Distributions.binomialCDF(acceptanceNumber, trials: n, probability: rate)
    }
}

/// One stratum of a stratified sample: its size, how many were sampled, and how many of those were
/// positive (violating, wrong).
public struct Stratum: Sendable, Equatable, Codable {
    public var population: Int
    public var sampled: Int
    public var positives: Int

    public init(population: Int, sampled: Int, positives: Int) {
        self.population = population
        self.sampled = sampled
        self.positives = positives
    }
}

/// A proportion estimated from a stratified random sample (prevalence of violating content, the
/// error rate of a whole operation).
public struct StratifiedEstimate: Sendable, Equatable {
    public var estimate: Double
    public var standardError: Double
    public var interval: Interval

    /// p̂ = Σ W_h p_h with W_h = N_h / N, and Var(p̂) = Σ W_h² (1 − n_h/N_h) p_h(1 − p_h)/(n_h − 1)
    /// (Cochran's unbiased estimator with the finite-population correction). Nil when a stratum was
    /// sampled fewer than twice or the population is empty.
    public init?(_ strata: [Stratum], confidence: Double = 0.95) {
        let total = Double(strata.reduce(0) { $0 + $1.population })
        guard total > 0, strata.allSatisfy({ $0.sampled >= 2 && $0.positives <= $0.sampled && $0.sampled <= $0.population }) else { return nil }
        var estimate = 0.0
        var variance = 0.0
        for stratum in strata {
            let weight = Double(stratum.population) / total
            let n = Double(stratum.sampled)
            let p = Double(stratum.positives) / n
            estimate += weight * p
            variance += weight * weight * (1 - n / Double(stratum.population)) * p * (1 - p) / (n - 1)
        }
        let se = variance.squareRoot()
        let half = Distributions.z(confidence: confidence) * se
        self.estimate = estimate
        self.standardError = se
        self.interval = Interval(lower: max(0, estimate - half), upper: min(1, estimate + half))
    }
}
