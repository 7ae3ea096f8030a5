import Foundation

/// Agreement between raters (reviewers, QA auditors, models) who put the same items into categories.
///
/// Every multi-rater coefficient here works from one shape: `counts[u][k]`, how many raters put
/// unit u in category k. Units rated by fewer than two raters add nothing to observed agreement (a
/// missing rating is simply not counted), which is how calibration sessions look in practice. The
/// formulas follow Gwet's *Handbook of Inter-Rater Reliability* (as irrCAC computes them) and
/// Krippendorff's *Computing Krippendorff's Alpha-Reliability* (2011); they are checked to four
/// decimals against the published vectors in `qa_test_vectors.json`.
public enum Agreement {
    /// Observed agreement p_a: over units with two or more ratings, the share of rater pairs that
    /// agree, averaged over units.
    public static func percent(_ counts: [[Int]]) -> Double? {
        var sum = 0.0
        var units = 0
        for unit in counts {
            let m = unit.reduce(0, +)
            guard m >= 2 else { continue }
            sum += Double(unit.reduce(0) { $0 + $1 * ($1 - 1) }) / Double(m * (m - 1))
            units += 1
        }
        return units == 0 ? nil : sum / Double(units)
    }

    /// π_k: the share of ratings in each category, averaged over units with at least one rating.
    static func classification(_ counts: [[Int]], categories: Int) -> [Double]? {
        var shares = [Double](repeating: 0, count: categories)
        var units = 0
        for unit in counts {
            let m = unit.reduce(0, +)
            guard m >= 1 else { continue }
            for (k, x) in unit.enumerated() { shares[k] += Double(x) / Double(m) }
            units += 1
        }
        guard units > 0 else { return nil }
        return shares.map { $0 / Double(units) }
    }

    /// (p_a − p_e) / (1 − p_e), nil where chance agreement is total.
    static func chanceCorrected(_ observed: Double, _ chance: Double) -> Double? {
        chance < 1 ? (observed - chance) / (1 - chance) : nil
    }

    /// Fleiss' kappa (generalised to missing ratings; with every unit rated by the same raters it is
    /// Fleiss 1971, and with two raters Scott's pi): chance agreement Σ π_k².
    public static func fleissKappa(_ counts: [[Int]]) -> Double? {
        let categories = counts.first?.count ?? 0
        guard let pa = percent(counts), let pi = classification(counts, categories: categories) else { return nil }
        return chanceCorrected(pa, pi.reduce(0) { $0 + $1 * $1 })
    }

    /// Gwet's AC1: chance agreement Σ π_k(1 − π_k) / (q − 1), which stays sensible when one category
    /// dominates (the "prevalence paradox" that drives kappa negative at 90 % agreement).
    /// `categories` is q, the categories raters could choose from (the row width by default).
    public static func gwetAC1(_ counts: [[Int]], categories: Int? = nil) -> Double? {
        let width = counts.first?.count ?? 0
        let q = categories ?? width
        guard q >= 2, let pa = percent(counts), let pi = classification(counts, categories: width) else { return nil }
        return chanceCorrected(pa, pi.reduce(0) { $0 + $1 * (1 - $1) } / Double(q - 1))
    }

    /// Brennan and Prediger's coefficient (Randolph's free-marginal kappa): chance agreement 1/q.
    public static func brennanPrediger(_ counts: [[Int]], categories: Int? = nil) -> Double? {
        let q = categories ?? counts.first?.count ?? 0
        guard q >= 2, let pa = percent(counts) else { return nil }
        return chanceCorrected(pa, 1 / Double(q))
    }

    /// The difference function of Krippendorff's alpha.
    public enum Metric: String, Sendable, CaseIterable, Codable {
        case nominal, ordinal, interval, ratio
    }

    /// Krippendorff's alpha, 1 − D_o/D_e, from the coincidence matrix of pairable values (units with
    /// two or more ratings). Categories are ordered by index; `values` gives their numbers for the
    /// interval and ratio metrics (the index when not given). Nil with fewer than two pairable values
    /// or no expected disagreement.
    public static func krippendorffAlpha(_ counts: [[Int]], metric: Metric = .nominal, values: [Double]? = nil) -> Double? {
        let q = counts.first?.count ?? 0
        guard q >= 1 else { return nil }
        let values = values ?? (0..<q).map(Double.init)
        precondition(values.count == q, "one value per category")
        var coincidences = [[Double]](repeating: [Double](repeating: 0, count: q), count: q)
        for unit in counts {
            let m = unit.reduce(0, +)
            guard m >= 2 else { continue }
            for c in 0..<q where unit[c] > 0 {
                for k in 0..<q where unit[k] > 0 {
                    coincidences[c][k] += Double(unit[c] * (unit[k] - (c == k ? 1 : 0))) / Double(m - 1)
                }
            }
        }
        let marginals = coincidences.map { $0.reduce(0, +) }
        let n = marginals.reduce(0, +)
        guard n > 1 else { return nil }
        func squaredDifference(_ c: Int, _ k: Int) -> Double {
            if c == k { return 0 }
            switch metric {
            case .nominal:
                return 1
            case .ordinal:
                let (low, high) = (min(c, k), max(c, k))
                let between = marginals[low...high].reduce(0, +) - (marginals[c] + marginals[k]) / 2
                return between * between
            case .interval:
                return (values[c] - values[k]) * (values[c] - values[k])
            case .ratio:
                let sum = values[c] + values[k]
                return sum == 0 ? 0 : ((values[c] - values[k]) / sum) * ((values[c] - values[k]) / sum)
            }
        }
        var observed = 0.0
        var expected = 0.0
        for c in 0..<q {
            for k in 0..<q where c != k {
                let delta = squaredDifference(c, k)
                observed += coincidences[c][k] * delta
                expected += marginals[c] * marginals[k] * delta
            }
        }
        guard expected > 0 else { return nil }
        return 1 - (n - 1) * observed / expected
    }

    /// One category against the rest: the counts collapsed to [in k, not in k], on which any
    /// coefficient above gives that category's agreement (Fleiss' per-category kappa is exactly
    /// `fleissKappa` of this).
    public static func collapse(_ counts: [[Int]], to category: Int) -> [[Int]] {
        counts.map { [$0[category], $0.reduce(0, +) - $0[category]] }
    }

    /// Per-unit counts from a two-rater contingency table (`table[i][j]`: units rater A put in i and
    /// rater B in j), so the multi-rater coefficients apply to a pair.
    public static func counts(fromPairTable table: [[Int]]) -> [[Int]] {
        let q = table.count
        var counts: [[Int]] = []
        for i in 0..<q {
            for j in 0..<q {
                var row = [Int](repeating: 0, count: q)
                row[i] += 1
                row[j] += 1
                counts.append(contentsOf: repeatElement(row, count: table[i][j]))
            }
        }
        return counts
    }

    /// How much partial credit a near miss gets in weighted kappa (categories ordered by index).
    public enum Weighting: String, Sendable, CaseIterable, Codable {
        /// Only exact agreement counts.
        case none
        /// 1 − |i − j| / (q − 1).
        case linear
        /// 1 − (i − j)² / (q − 1)².
        case quadratic
    }

    /// Cohen's kappa for two raters, with its asymptotic standard error (Fleiss, Cohen and Everitt
    /// 1969, the one SAS reports) for an interval.
    public struct Cohen: Sendable, Equatable {
        public var kappa: Double
        public var observed: Double
        public var expected: Double
        public var standardError: Double
        public var units: Int

        public func interval(confidence: Double = 0.95) -> Interval {
            let half = Distributions.z(confidence: confidence) * standardError
            return Interval(lower: kappa - half, upper: kappa + half)
        }
    }

    /// Cohen's kappa from a square contingency table (rows rater A, columns rater B). Nil for an
    /// empty table or when chance agreement is total.
    public static func cohen(_ table: [[Int]], weighting: Weighting = .none) -> Cohen? {
        let q = table.count
        guard q >= 1, table.allSatisfy({ $0.count == q }) else { return nil }
        let n = Double(table.reduce(0) { $0 + $1.reduce(0, +) })
        guard n > 0 else { return nil }
        let p = table.map { $0.map { Double($0) / n } }
        let rows = p.map { $0.reduce(0, +) }
        let columns = (0..<q).map { j in p.reduce(0) { $0 + $1[j] } }
        func weight(_ i: Int, _ j: Int) -> Double {
            if i == j { return 1 }
            guard q > 1 else { return 0 }
            let d = Double(abs(i - j)) / Double(q - 1)
            switch weighting {
            case .none: return 0
            case .linear: return 1 - d
            case .quadratic: return 1 - d * d
            }
        }
        var observed = 0.0
        var expected = 0.0
        for i in 0..<q {
            for j in 0..<q {
                observed += weight(i, j) * p[i][j]
                expected += weight(i, j) * rows[i] * columns[j]
            }
        }
        guard expected < 1 else { return nil }
        let kappa = (observed - expected) / (1 - expected)
        // w̄_i. = Σ_j p_.j w_ij and w̄_.j = Σ_i p_i. w_ij.
        let rowWeights = (0..<q).map { i in (0..<q).reduce(0.0) { $0 + columns[$1] * weight(i, $1) } }
        let columnWeights = (0..<q).map { j in (0..<q).reduce(0.0) { $0 + rows[$1] * weight($1, j) } }
        var sum = 0.0
        for i in 0..<q {
            for j in 0..<q {
                let term = weight(i, j) - (rowWeights[i] + columnWeights[j]) * (1 - kappa)
                sum += p[i][j] * term * term
            }
        }
        let correction = kappa - expected * (1 - kappa)
        let variance = max(0, sum - correction * correction) / (n * (1 - expected) * (1 - expected))
        return Cohen(kappa: kappa, observed: observed, expected: expected, standardError: variance.squareRoot(), units: Int(n))
    }
}
