import Testing
import WardenCore
@testable import WardenQuality

@Suite struct CalibrationTests {
    static let categories = ["none", "spam", "harassment", "hate"]

    /// A session of `items` items with known answers and raters of known accuracy; a wrong rating is
    /// another category at random. `accuracy(rater, truth)` gives each rater's rate per category.
    static func session(items: Int, seed: UInt64, raters: [String], accuracy: (String, String) -> Double) -> (ratings: [Rating], truth: [String: String]) {
        var random = SplitMix64(seed: seed)
        var ratings: [Rating] = []
        var truth: [String: String] = [:]
        for n in 0..<items {
            let item = "case-\(n)"
            // Mostly benign, as real queues are.
            let roll = random.below(100)
            let answer = roll < 40 ? "none" : roll < 70 ? "spam" : roll < 90 ? "harassment" : "hate"
            truth[item] = answer
            for rater in raters {
                var given = answer
                if !random.chance(accuracy(rater, answer)) {
                    let others = categories.filter { $0 != answer }
                    given = others[random.below(others.count)]
                }
                ratings.append(Rating(item: item, rater: rater, category: given))
            }
        }
        return (ratings, truth)
    }

    static let raters = ["ana", "ben", "vendor-a", "vendor-b", "model:text-abuse"]
    static func known(_ rater: String, _ category: String) -> Double {
        switch rater {
        case "ana": 0.95
        case "ben": 0.85
        case "vendor-a", "vendor-b": category == "harassment" ? 0.75 : 0.95
        default: 0.90
        }
    }

    @Test func reviewersOfKnownAccuracyAreRecoveredWithinTheirIntervals() throws {
        let (ratings, truth) = Self.session(items: 1_500, seed: 17, raters: Self.raters, accuracy: Self.known)
        let report = CalibrationReport(ratings: ratings, gold: truth, categories: Self.categories, target: 0.85)
        #expect(report.items == 1_500 && report.raters == 5 && report.ratings == 7_500)
        #expect(report.categories == Self.categories)
        for rater in report.perRater {
            // Every item has a gold answer, so every rating is checked.
            #expect(rater.agreement.checked == 1_500)
            for cell in rater.byCategory {
                let interval = try #require(cell.interval)
                #expect(interval.contains(Self.known(rater.name, cell.group)), "\(rater.name) on \(cell.group): \(cell.accuracy ?? -1) in \(interval)")
            }
        }
        // The weak vendor category is flagged, and nothing else falls below 85 % beyond noise.
        let flagged = Set(report.flags.map { "\($0.rater)/\($0.category ?? "*")" })
        #expect(flagged == ["vendor-a/harassment", "vendor-b/harassment"])
        let ana = try #require(report.perRater.first { $0.name == "ana" })
        let ben = try #require(report.perRater.first { $0.name == "ben" })
        #expect(try #require(ana.kappa) > #require(ben.kappa))
        // Overall coefficients are defined and agree in order of magnitude.
        let overall = report.overall
        let alpha = try #require(overall.krippendorffAlpha)
        let fleiss = try #require(overall.fleissKappa)
        #expect(abs(alpha - fleiss) < 0.01 && alpha > 0.6 && alpha < 0.9)
        // Harassment is where people disagree.
        let harassment = try #require(report.perCategory.first { $0.name == "harassment" }?.agreement.fleissKappa)
        let spam = try #require(report.perCategory.first { $0.name == "spam" }?.agreement.fleissKappa)
        #expect(harassment < spam)
    }

    @Test func withoutGoldEachRaterIsComparedWithTheOthersConsensus() throws {
        let (ratings, _) = Self.session(items: 1_000, seed: 3, raters: Self.raters, accuracy: Self.known)
        let report = CalibrationReport(ratings: ratings, categories: Self.categories)
        let ana = try #require(report.perRater.first { $0.name == "ana" })
        let ben = try #require(report.perRater.first { $0.name == "ben" })
        // Some items have no majority among the other four, so fewer are checked than rated.
        #expect(ana.rated == 1_000 && ana.agreement.checked < 1_000 && ana.agreement.checked > 900)
        #expect(try #require(ana.agreement.accuracy) > #require(ben.agreement.accuracy))
        #expect(report.flags.isEmpty)  // no target given
    }

    @Test func contestedItemsComeFirstAndRulesOfTheSessionHold() throws {
        let ratings = [
            Rating(item: "a", rater: "r1", category: "spam"), Rating(item: "a", rater: "r2", category: "spam"),
            Rating(item: "a", rater: "r3", category: "spam"),
            Rating(item: "b", rater: "r1", category: "spam"), Rating(item: "b", rater: "r2", category: "none"),
            Rating(item: "b", rater: "r3", category: "hate"),
            Rating(item: "c", rater: "r1", category: "none"), Rating(item: "c", rater: "r2", category: "none"),
            Rating(item: "c", rater: "r3", category: "hate"),
            // r3 changes their mind on c: the later rating counts.
            Rating(item: "c", rater: "r3", category: "none"),
            // Rated once: nothing to agree on, never contested.
            Rating(item: "d", rater: "r1", category: "hate"),
        ]
        let report = CalibrationReport(ratings: ratings, gold: ["b": "none"])
        #expect(report.ratings == 10 && report.items == 4)
        #expect(report.categories == ["hate", "none", "spam"])
        #expect(report.contested.map(\.item) == ["b", "a", "c"])
        #expect(report.contested[0].agreement == 0 && report.contested[0].consensus == nil && report.contested[0].gold == "none")
        #expect(report.contested[1].consensus == "spam" && report.contested[1].agreement == 1)
        // r1 on b is checked against gold (wrong), on a and c against the others (right), d has no answer.
        let r1 = try #require(report.perRater.first { $0.name == "r1" })
        #expect(r1.rated == 4 && r1.agreement.checked == 3 && r1.agreement.correct == 2)
        #expect(CalibrationReport(ratings: ratings, contestedLimit: 1).contested.map(\.item) == ["b"])
    }

    @Test func accuracyTablesGroupInOrderAndFlagOnlyBeyondNoise() {
        let outcomes: [(group: String, correct: Bool)] =
            Array(repeating: ("vendor", true), count: 70) + Array(repeating: ("vendor", false), count: 30)
            + Array(repeating: ("in-house", true), count: 8) + Array(repeating: ("in-house", false), count: 2)
        let rows = Accuracy.table(outcomes, target: 0.85)
        #expect(rows.map(\.group) == ["vendor", "in-house"])
        #expect(rows[0].accuracy == 0.7 && rows[0].belowTarget == true)
        // 80 % of ten could still be 85 %: not flagged.
        #expect(rows[1].accuracy == 0.8 && rows[1].belowTarget == false)
        let exact = Accuracy.table(outcomes, method: .clopperPearson)
        #expect(exact[1].interval!.lower < rows[1].interval!.lower && exact[0].belowTarget == nil)
    }

    @Test func csvRecordsParseQuotesAndLineEndsAndSayWhereTheyFail() throws {
        let text = "item,rater,category\r\ncase-1,\"Smith, Ann\",spam\n\n\"case-2\",\"say \"\"hi\"\"\",\"two\nlines\"\nlast,row,x"
        let records = try CSV.records(text)
        #expect(records.map(\.line) == [1, 2, 4, 6])
        #expect(records[1].fields == ["case-1", "Smith, Ann", "spam"])
        #expect(records[2].fields == ["case-2", "say \"hi\"", "two\nlines"])
        #expect(records[3].fields == ["last", "row", "x"])
        #expect(throws: CSV.ParseError(line: 2, message: "a quoted field is never closed")) { try CSV.records("a,b\n\"open,c\n") }
        #expect(throws: CSV.ParseError.self) { try CSV.records("a,b\"c\n") }
        #expect(throws: CSV.ParseError.self) { try CSV.records("\"a\"b,c\n") }
    }
}
