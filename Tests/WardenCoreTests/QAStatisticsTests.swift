import Foundation
import Testing
@testable import WardenCore

/// The shared data directory (`../shared/data` from the checkout); CI always has it, a clone may not.
private let sharedData: String? = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let path = root.deletingLastPathComponent().appendingPathComponent("shared/data").path
    return FileManager.default.fileExists(atPath: path) ? path : nil
}()

/// Counts per unit (`counts[u][k]`) from a units × raters matrix of category values (nil: not rated).
private func counts(_ units: [[Int?]], categories: [Int]) -> [[Int]] {
    units.map { ratings in categories.map { category in ratings.filter { $0 == category }.count } }
}

/// Units × raters from the coders × units layout Krippendorff's examples use.
private func transpose(_ coders: [[Int?]]) -> [[Int?]] {
    (0..<(coders.first?.count ?? 0)).map { unit in coders.map { $0[unit] } }
}

private struct Missing: Error {}

/// The value, or a thrown error (for reading the vectors file; `#require` does not nest).
private func need<T>(_ value: T?) throws -> T {
    guard let value else { throw Missing() }
    return value
}

/// `#expect` for expressions that throw while they are built (reading the vectors file).
private func check(_ condition: @autoclosure () throws -> Bool, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let holds = try condition()
    #expect(holds, comment, sourceLocation: sourceLocation)
}

private func close(_ value: Double?, _ expected: Double, _ tolerance: Double = 5e-5) -> Bool {
    guard let value else { return false }
    return abs(value - expected) <= tolerance
}

@Suite struct QAStatisticsTests {
    // MARK: Always run (the textbook values written here)

    @Test func cohenAndGwetOnATwoByTwoTable() throws {
        let table = [[20, 5], [10, 15]]
        let cohen = try #require(Agreement.cohen(table))
        #expect(close(cohen.kappa, 0.4) && close(cohen.observed, 0.7) && close(cohen.expected, 0.5))
        let pairs = Agreement.counts(fromPairTable: table)
        #expect(pairs.count == 50)
        #expect(close(Agreement.gwetAC1(pairs), 0.40594))
        #expect(close(Agreement.fleissKappa(pairs), 0.39394))  // Scott's pi for two raters
        #expect(close(Agreement.brennanPrediger(pairs), 0.4))
        // The prevalence paradox: 90 % agreement, kappa below zero, AC1 high.
        let paradox = Agreement.counts(fromPairTable: [[90, 5], [5, 0]])
        #expect(close(Agreement.cohen([[90, 5], [5, 0]])?.kappa, -0.05263))
        #expect(close(Agreement.gwetAC1(paradox), 0.8895))
    }

    @Test func wilsonAndClopperPearsonIntervals() throws {
        let p = Proportion(successes: 12, trials: 400)
        let wilson = try #require(p.wilson())
        let exact = try #require(p.clopperPearson())
        #expect(close(wilson.lower, 0.01724) && close(wilson.upper, 0.0517))
        #expect(close(exact.lower, 0.0156) && close(exact.upper, 0.05182))
        #expect(Proportion(successes: 0, trials: 0).wilson() == nil)
        #expect(Proportion(successes: 5, trials: 5).clopperPearson()?.upper == 1)
    }

    @Test func sampleSizesFollowTheTextbookFormula() {
        #expect(SampleSize.proportion(margin: 0.05) == 385)
        #expect(SampleSize.proportion(margin: 0.05, population: 10_000) == 370)
        #expect(SampleSize.proportion(margin: 0.05, population: 1_000) == 278)
        #expect(SampleSize.proportion(margin: 0.05, population: 40) <= 40)
        #expect(SampleSize.zeroDefect(rate: 0.01) == 299)
    }

    @Test func normalQuantileAndBetaAreAccurate() {
        #expect(abs(Distributions.z(confidence: 0.95) - 1.959963984540054) < 1e-12)
        #expect(abs(Distributions.normalQuantile(0.001) + 3.090232306167813) < 1e-12)
        #expect(abs(Distributions.normalQuantile(0.999_999) - 4.753424308817087) < 1e-9)
        // I_x(a, b) against closed forms: I_x(1, b) = 1 − (1 − x)^b and I_x(a, 1) = x^a.
        for x in stride(from: 0.01, through: 0.99, by: 0.07) {
            #expect(abs(Distributions.incompleteBeta(x, 1, 7) - (1 - pow(1 - x, 7))) < 1e-12)
            #expect(abs(Distributions.incompleteBeta(x, 3, 1) - pow(x, 3)) < 1e-12)
        }
        // Binomial(10, 0.3): P(X ≤ 2) summed directly.
        let direct = (0...2).reduce(0.0) { sum, k in
            let ways = [1.0, 10, 45][k]
            return sum + ways * pow(0.3, Double(k)) * pow(0.7, Double(10 - k))
        }
        #expect(abs(Distributions.binomialCDF(2, trials: 10, probability: 0.3) - direct) < 1e-12)
    }

    @Test func twoProportionsDifferOnlyBeyondNoise() throws {
        let lastWeek = Proportion(successes: 900, trials: 1000)
        #expect(try #require(lastWeek.pValue(against: Proportion(successes: 890, trials: 1000))) > 0.05)
        #expect(try #require(lastWeek.pValue(against: Proportion(successes: 820, trials: 1000))) < 0.001)
        #expect(lastWeek.pValue(against: Proportion(successes: 0, trials: 0)) == nil)
    }

    @Test func missingRatingsAndDegenerateInputs() {
        // Nobody rated a unit twice: nothing to agree on.
        #expect(Agreement.percent([[1, 0], [0, 1]]) == nil)
        #expect(Agreement.krippendorffAlpha([[1, 0], [0, 1]]) == nil)
        // Everyone always chose the same category: chance agreement is total, kappa undefined.
        #expect(Agreement.fleissKappa([[3, 0], [3, 0]]) == nil)
        #expect(Agreement.cohen([[4]]) == nil)
        // Perfect agreement on two categories.
        #expect(Agreement.krippendorffAlpha([[3, 0], [0, 3]]) == 1)
        #expect(Agreement.collapse([[2, 1, 0], [0, 0, 3]], to: 1) == [[1, 2], [0, 3]])
    }

    // MARK: The published vectors in ../shared/data/qa_test_vectors.json

    @Test(.enabled(if: sharedData != nil, "needs ../shared/data/qa_test_vectors.json; CI always has it"))
    func everyAgreementStatisticEqualsTheTestVectors() throws {
        let vectors = try Self.vectors()
        func object(_ key: String) throws -> [String: Any] { try need(vectors[key] as? [String: Any]) }
        func number(_ object: [String: Any], _ key: String) throws -> Double { try need((object[key] as? NSNumber)?.doubleValue) }
        func matrix(_ value: Any?) throws -> [[Int?]] {
            try need(value as? [[Any]]).map { row in row.map { ($0 as? NSNumber)?.intValue } }
        }

        // Krippendorff (2011), 4 coders × 12 units with missing values: every metric, and irrCAC's
        // coefficients on the same data.
        let alpha = try object("krippendorff_alpha")
        let units = transpose(try matrix(alpha["reliability_data_coders_x_units"]))
        let data = counts(units, categories: [1, 2, 3, 4, 5])
        let expected = try need(alpha["expected"] as? [String: Double])
        for metric in Agreement.Metric.allCases {
            let value = Agreement.krippendorffAlpha(data, metric: metric, values: [1, 2, 3, 4, 5])
            try check(close(value, try need(expected[metric.rawValue])), "Krippendorff's alpha, \(metric)")
        }
        let other = try need(alpha["same_data_other_coefficients_irrCAC_0.4.4"] as? [String: Double])
        try check(close(Agreement.percent(data), other["pa"] ?? .nan))
        try check(close(Agreement.gwetAC1(data), other["gwet_ac1"] ?? .nan))
        try check(close(Agreement.fleissKappa(data), other["fleiss_generalized"] ?? .nan))
        try check(close(Agreement.brennanPrediger(data), other["brennan_prediger"] ?? .nan))

        let binary = try object("krippendorff_binary_2coders")
        let binaryUnits = transpose(try matrix(binary["data"]))
        try check(close(Agreement.krippendorffAlpha(counts(binaryUnits, categories: [0, 1])), try number(binary, "nominal")))

        let letters = try object("krippendorff_nominal_2coders_letters")
        let a = Array(try need(letters["coderA"] as? String))
        let b = Array(try need(letters["coderB"] as? String))
        let alphabet = Array(Set(a + b)).sorted()
        let letterCounts = zip(a, b).map { x, y in alphabet.map { ($0 == x ? 1 : 0) + ($0 == y ? 1 : 0) } }
        try check(close(Agreement.krippendorffAlpha(letterCounts), try number(letters, "nominal"), 5e-4))

        let package = try object("krippendorff_package_test_3coders_15units")
        let packageCounts = counts(transpose(try matrix(package["data"])), categories: [1, 2, 3, 4])
        try check(close(Agreement.krippendorffAlpha(packageCounts), try number(package, "nominal")))
        try check(close(Agreement.krippendorffAlpha(packageCounts, metric: .interval, values: [1, 2, 3, 4]), try number(package, "interval")))

        // Fleiss: the Wikipedia table (counts given) and Fleiss 1971's diagnoses (raw ratings).
        let wikipedia = try object("fleiss_kappa_wikipedia_10x5_14raters")
        let table = try need(wikipedia["table"] as? [[Int]])
        try check(close(Agreement.fleissKappa(table), try number(wikipedia, "fleiss")))
        try check(close(Agreement.brennanPrediger(table), try number(wikipedia, "randolph_free_marginal")))

        let diagnoses = try object("fleiss_kappa_diagnoses_30x6raters")
        let diagnosed = counts(try matrix(diagnoses["raw_ratings"]), categories: [1, 2, 3, 4, 5])
        try check(close(Agreement.fleissKappa(diagnosed), try number(diagnoses, "fleiss")))
        try check(close(Agreement.krippendorffAlpha(diagnosed), try number(diagnoses, "krippendorff_nominal")))
        try check(close(Agreement.gwetAC1(diagnosed), try number(diagnoses, "gwet_ac1")))

        // Cohen: 2×2, the prevalence paradox, SAS's 3×3 with its standard error, sklearn's weights.
        let twoByTwo = try object("cohen_kappa_2x2")
        let pairTable = try need(twoByTwo["table_rowsA_colsB"] as? [[Int]])
        let cohen = try need(Agreement.cohen(pairTable))
        try check(close(cohen.kappa, try number(twoByTwo, "kappa")) && close(cohen.observed, try number(twoByTwo, "po")) && close(cohen.expected, try number(twoByTwo, "pe")))
        let pairCounts = Agreement.counts(fromPairTable: pairTable)
        try check(close(Agreement.gwetAC1(pairCounts), try number(twoByTwo, "gwet_ac1")))
        try check(close(Agreement.fleissKappa(pairCounts), try number(twoByTwo, "scott_pi")))
        try check(close(Agreement.brennanPrediger(pairCounts), try number(twoByTwo, "brennan_prediger")))

        let paradox = try object("cohen_kappa_prevalence_paradox")
        let paradoxTable = try need(paradox["table"] as? [[Int]])
        try check(close(Agreement.cohen(paradoxTable)?.kappa, try number(paradox, "kappa")))
        try check(close(Agreement.cohen(paradoxTable)?.observed, try number(paradox, "po")))
        try check(close(Agreement.gwetAC1(Agreement.counts(fromPairTable: paradoxTable)), try number(paradox, "gwet_ac1")))

        let sas = try object("cohen_kappa_sas_3x3")
        let sasCohen = try need(Agreement.cohen(try need(sas["table"] as? [[Int]])))
        let ci = try need(sas["ci95"] as? [Double])
        try check(close(sasCohen.kappa, try number(sas, "kappa")) && close(sasCohen.standardError, try number(sas, "ase")))
        try check(close(sasCohen.interval().lower, ci[0]) && close(sasCohen.interval().upper, ci[1]))
        try check(close(Agreement.cohen(try need(sas["table"] as? [[Int]]), weighting: .linear)?.kappa, try number(sas, "weighted_linear_kappa")))

        let weighted = try object("cohen_weighted_sklearn")
        let r1 = try need(weighted["r1"] as? [Int])
        let r2 = try need(weighted["r2"] as? [Int])
        var weightedTable = [[Int]](repeating: [0, 0, 0], count: 3)
        for (x, y) in zip(r1, r2) { weightedTable[x][y] += 1 }
        try check(close(Agreement.cohen(weightedTable)?.kappa, try number(weighted, "unweighted")))
        try check(close(Agreement.cohen(weightedTable, weighting: .linear)?.kappa, try number(weighted, "linear")))
        try check(close(Agreement.cohen(weightedTable, weighting: .quadratic)?.kappa, try number(weighted, "quadratic")))
    }

    @Test(.enabled(if: sharedData != nil, "needs ../shared/data/qa_test_vectors.json; CI always has it"))
    func sampleSizesIntervalsAndPrevalenceEqualTheTestVectors() throws {
        let vectors = try Self.vectors()
        let sizes = try need(vectors["sample_size_proportion_95"] as? [String: Double])
        try check(abs(Distributions.z(confidence: 0.95) - (sizes["z"] ?? 0)) < 1e-6)
        for (key, value) in sizes where key != "z" {
            // Keys: "p0.5_E0.05" (expected rate, margin) or "fpc_N10000_E0.05" (population, margin at p = 0.5).
            let parts = key.split(separator: "_")
            let margin = try need(Double(parts.last!.dropFirst()))
            let size: Int
            if parts[0] == "fpc" {
                size = SampleSize.proportion(margin: margin, population: try need(Int(parts[1].dropFirst())))
            } else {
                size = SampleSize.proportion(margin: margin, expected: try need(Double(parts[0].dropFirst())))
            }
            try check(size == Int(value), "sample size \(key)")
        }

        let intervals = try need(vectors["binomial_ci_95"] as? [String: Any])
        func checkInterval(_ key: String, _ k: Int, _ n: Int) throws {
            let case_ = try need(intervals[key] as? [String: Any])
            let p = Proportion(successes: k, trials: n)
            let wilson = try need(case_["wilson"] as? [Double])
            try check(close(p.wilson()?.lower, wilson[0]) && close(p.wilson()?.upper, wilson[1]), "Wilson \(key)")
            if let exact = (case_["clopper_pearson"] ?? case_["clopper_pearson_two_sided"]) as? [Double] {
                try check(close(p.clopperPearson()?.lower, exact[0]) && close(p.clopperPearson()?.upper, exact[1]), "Clopper–Pearson \(key)")
            }
            if let wald = case_["wald"] as? [Double] {
                try check(close(p.wald()?.lower, wald[0]) && close(p.wald()?.upper, wald[1]), "Wald \(key)")
            }
            if let upper = case_["one_sided_exact_upper"] as? Double {
                try check(close(p.exactUpperBound(), upper, 1e-6))
            }
            if let three = case_["rule_of_three"] as? Double { try check(abs(3.0 / Double(n) - three) < 1e-9) }
        }
        try checkInterval("k12_n400", 12, 400)
        try checkInterval("k0_n300", 0, 300)
        try checkInterval("k3_n150", 3, 150)
        try check(SampleSize.zeroDefect(rate: 0.01) == (intervals["zero_defect_n_for_upper_le_1pct_one_sided"] as? Int))

        let curves = try need(vectors["oc_curve_binomial_P_accept"] as? [String: [String: Double]])
        for (plan, points) in curves {
            // "n200_c5": sample 200, accept with at most 5 defects.
            let parts = plan.split(separator: "_")
            let n = try need(Int(parts[0].dropFirst()))
            let c = try need(Int(parts[1].dropFirst()))
            for (rate, probability) in points {
                let value = SampleSize.acceptanceProbability(n: n, acceptanceNumber: c, rate: try need(Double(rate)))
                try check(close(value, probability), "P(accept) \(plan) at \(rate)")
            }
        }

        let prevalence = try need(vectors["stratified_prevalence"] as? [String: Any])
        let strata = try need(prevalence["strata_N_n_k"] as? [[Int]]).map { Stratum(population: $0[0], sampled: $0[1], positives: $0[2]) }
        let estimate = try need(StratifiedEstimate(strata))
        let ci = try need(prevalence["ci95"] as? [Double])
        try check(close(estimate.estimate, try need(prevalence["p_hat"] as? Double), 1e-7))
        try check(close(estimate.standardError, try need(prevalence["se"] as? Double), 1e-7))
        try check(close(estimate.interval.lower, ci[0], 1e-6) && close(estimate.interval.upper, ci[1], 1e-6))
    }

    static func vectors() throws -> [String: Any] {
        let data = try need(FileManager.default.contents(atPath: try need(sharedData) + "/qa_test_vectors.json"))
        return try need(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}
