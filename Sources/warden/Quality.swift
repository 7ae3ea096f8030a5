import ArgumentParser
import Foundation
import WardenCore
import WardenEngine
import WardenHTTP
import WardenQuality

/// `warden qa`: the statistics of quality work — agreement in a calibration session, sample sizes
/// for an audit, intervals for an accuracy, prevalence from a stratified sample (docs/quality.md).
struct Quality: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qa",
        abstract: "Quality: the health report, QA accuracy, calibration agreement, sample sizes, intervals, prevalence (docs/quality.md).",
        subcommands: [Health.self, Accuracy_.self, Calibrate.self, Golden.self, Certifications.self, Size.self, Interval_.self, Prevalence.self])

    struct ConfidenceOption: ParsableArguments {
        @Option(help: "Confidence level, between 0 and 1.") var confidence = 0.95

        func validate() throws {
            guard confidence > 0, confidence < 1 else { throw ValidationError("--confidence must be between 0 and 1 (such as 0.95), not \(confidence)") }
        }
    }

    /// Accuracy tables, one per titled section (empty sections left out), lowest first as reported;
    /// rows whose whole interval is under the target are marked.
    static func printAccuracy(_ sections: [(title: String, rows: [AccuracyRow])]) {
        for (title, rows) in sections where !rows.isEmpty {
            print("")
            print("\(title.padding(toLength: 22, withPad: " ", startingAt: 0)) checked  accuracy  interval")
            for row in rows {
                let flag = row.belowTarget == true ? "  ← below the target" : ""
                print("\(row.group.padding(toLength: 22, withPad: " ", startingAt: 0)) \(String(row.checked).padding(toLength: 7, withPad: " ", startingAt: 0))  \(format(row.accuracy, 3))     \(format(row.interval)) \(bar(row.accuracy))\(flag)")
            }
        }
    }

    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func format(_ value: Double?, _ digits: Int = 4) -> String {
        guard let value else { return "–" }
        return String(format: "%.\(digits)f", value)
    }

    static func format(_ interval: WardenCore.Interval?) -> String {
        guard let interval else { return "–" }
        return "[\(format(interval.lower)), \(format(interval.upper))]"
    }

    /// A 20-character bar for a value in [0, 1].
    static func bar(_ value: Double?) -> String {
        let filled = Int(((value ?? 0) * 20).rounded()).clamped(to: 0...20)
        return String(repeating: "█", count: filled) + String(repeating: "·", count: 20 - filled)
    }

    struct Health: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The health of the operation: appeal overturns, SLA attainment, times, escalation accuracy, weekly changes beyond noise.",
            discussion: """
                Over the decisions of the last --days days in a data directory, overall and per reviewer, team \
                (a vendor is a team), queue and policy, each rate with its Wilson interval. The same report as \
                GET /v1/quality/health. Example:
                  warden qa health --days 28
                """)

        @OptionGroup var data: DataDirOption
        @Option(help: "Days to cover, ending now (1–\(QualityService.maximumDays)).") var days = 28
        @Flag(help: "Print the report as JSON.") var json = false

        func validate() throws {
            guard (1...QualityService.maximumDays).contains(days) else { throw ValidationError("--days must be between 1 and \(QualityService.maximumDays), not \(days)") }
        }

        func run() async throws {
            let opened = try await OpenedDataDir(data, exclusive: false)
            let report = try await QualityService(store: opened.store, clock: SystemWallClock()).health(days: days)
            if json {
                print(try Quality.encode(HealthResponse(report, days: days)))
                return
            }
            func rate(_ rate: Rate) -> String {
                guard let value = rate.value else { return "–".padding(toLength: 24, withPad: " ", startingAt: 0) }
                return "\(format(value, 3)) \(format(rate.interval))".padding(toLength: 24, withPad: " ", startingAt: 0)
            }
            func duration(_ millis: Int64?) -> String {
                guard let millis else { return "–" }
                let minutes = Double(millis) / 60_000
                return minutes < 120 ? "\(format(minutes, 0)) min" : "\(format(minutes / 60, 1)) h"
            }
            print("\(report.overall.decisions) decisions from \(Timestamp.formatRFC3339(report.from)) to \(Timestamp.formatRFC3339(report.to))")
            for (title, rows) in [("overall", [report.overall]), ("by reviewer", report.byReviewer), ("by team", report.byTeam),
                                  ("by queue", report.byQueue), ("by policy", report.byPolicy)] where !rows.isEmpty {
                print("")
                print("\(title.padding(toLength: 22, withPad: " ", startingAt: 0)) decisions  overturned of appealed   SLA met                  first action  resolution")
                for row in rows {
                    print("\(row.group.padding(toLength: 22, withPad: " ", startingAt: 0)) \(String(row.decisions).padding(toLength: 9, withPad: " ", startingAt: 0))  \(rate(row.overturned)) \(rate(row.slaMet)) \(duration(row.firstActionMillis?.p50).padding(toLength: 12, withPad: " ", startingAt: 0))  \(duration(row.resolutionMillis?.p50))")
                }
            }
            if !report.escalations.isEmpty {
                print("")
                print("escalations the next tier agreed with (found a violation):")
                for escalation in report.escalations { print("  \(escalation.escalator.padding(toLength: 20, withPad: " ", startingAt: 0)) \(escalation.agreed.count) of \(escalation.agreed.of)  \(rate(escalation.agreed))") }
            }
            if !report.backlog.isEmpty {
                print("")
                print("backlog now           undecided  waiting  oldest        SLA warnings  breaches")
                for row in report.backlog {
                    print("\(row.queue.padding(toLength: 22, withPad: " ", startingAt: 0)) \(String(row.undecided).padding(toLength: 9, withPad: " ", startingAt: 0))  \(String(row.waiting).padding(toLength: 7, withPad: " ", startingAt: 0))  \(duration(row.oldestAgeMillis).padding(toLength: 12, withPad: " ", startingAt: 0))  \(String(row.warnings).padding(toLength: 12, withPad: " ", startingAt: 0))  \(row.breaches)")
                }
            }
            if !report.weeks.isEmpty {
                print("")
                print("week of       decisions  overturned                       SLA met")
                for week in report.weeks {
                    let changes = week.changes.isEmpty ? "" : "  ← \(week.changes.joined(separator: ", ")) (beyond noise)"
                    print("\(Timestamp.formatRFC3339(week.start).prefix(10))   \(String(week.decisions).padding(toLength: 9, withPad: " ", startingAt: 0))  \(format(week.overturned.value, 3)) \(bar(week.overturned.value).prefix(10))  \(format(week.slaMet.value, 3)) \(bar(week.slaMet.value))\(changes)")
                }
            }
        }
    }

    struct Accuracy_: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "accuracy",
            abstract: "QA accuracy: how often re-reviewed decisions were right, per reviewer, team, queue and policy, with intervals.",
            discussion: """
                Over every QA verdict given in the last --days days in a data directory (rulings on disputes \
                decide), lowest accuracy first; rows whose whole interval is under the pack's target_accuracy \
                (quality.yaml) are marked. The same report as GET /v1/quality/accuracy. Example:
                  warden qa accuracy --days 28 --method clopper-pearson
                """)

        @OptionGroup var data: DataDirOption
        @OptionGroup var pack: PackOption
        @Option(help: "Days to cover, ending now (1–\(QualityService.maximumDays)).") var days = 28
        @Option(help: "The interval: wilson or clopper-pearson.") var method: String = "wilson"
        @Flag(help: "Print the report as JSON.") var json = false

        func validate() throws {
            guard (1...QualityService.maximumDays).contains(days) else { throw ValidationError("--days must be between 1 and \(QualityService.maximumDays), not \(days)") }
            guard IntervalMethod(rawValue: method) != nil else { throw ValidationError("--method is wilson or clopper-pearson, not \(method)") }
        }

        func run() async throws {
            let loaded = try pack.load()
            let opened = try await OpenedDataDir(data, exclusive: false)
            let quality = QualityService(store: opened.store, clock: SystemWallClock(), pack: {
                (loaded.quality, loaded.taxonomy.categoryIDs, loaded.review.configuration.queueOrder)
            })
            let report = try await quality.report(days: days, method: IntervalMethod(rawValue: method) ?? .wilson)
            if json {
                print(try Quality.encode(report))
                return
            }
            let p = report.progress
            print("\(p.reviewed) re-reviewed decisions with a verdict in the last \(days) days (\(p.disputed) disputed, \(p.ruled) ruled)")
            Quality.printAccuracy([("overall", [report.overall]), ("by reviewer", report.byReviewer), ("by team", report.byTeam),
                                   ("by queue", report.byQueue), ("by policy", report.byPolicy), ("models", report.byModel)])
            let found = report.errors.filter { $0.count > 0 }
            if !found.isEmpty {
                print("")
                print("errors found:")
                for error in found { print("  \(error.name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(error.count)  (\(error.byPolicy.map { "\($0.policy) \($0.count)" }.joined(separator: ", ")))") }
            }
        }
    }

    struct Calibrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Agreement of raters who rated the same items: kappas, alpha, AC1, each rater against the answer, the items to discuss.",
            discussion: """
                Reads a CSV file with a header naming the columns item, rater and category (others are ignored; \
                any order). A rater may be a person or a model (model:sms-spam): both are measured the same way. \
                Rows whose rater is the --gold-rater name are the answer key, not a rater: each rater is checked \
                against the gold answer where an item has one, and against the majority of the other raters where \
                not. A later row for the same item and rater replaces an earlier one. Example:
                  warden qa calibrate session.csv --target 0.9
                """)

        @Argument(help: "The ratings, as CSV (item,rater,category).") var file: String
        @Option(help: "The rater name whose rows are the answer key.") var goldRater = "gold"
        @Option(help: "The categories in order, comma-separated (others found are added after, sorted).") var categories: String?
        @Option(help: "Flag raters and rater × category cells whose whole interval is below this accuracy (0–1).") var target: Double?
        @Option(help: "How many of the most contested items to list.") var contested = 10
        @OptionGroup var confidence: ConfidenceOption
        @Flag(help: "Print the report as JSON.") var json = false

        func validate() throws {
            if let target, !(target > 0 && target < 1) { throw ValidationError("--target must be between 0 and 1 (such as 0.9), not \(target)") }
            guard contested >= 0 else { throw ValidationError("--contested must be 0 or more") }
        }

        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("\(file): cannot read the file") }
            let records: [(line: Int, fields: [String])]
            do { records = try CSV.records(String(decoding: data, as: UTF8.self)) } catch { throw ValidationError("\(file) \(error.description)") }
            guard let header = records.first else { throw ValidationError("\(file): the file is empty; it needs a header with item, rater and category") }
            let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let item = names.firstIndex(of: "item"), let rater = names.firstIndex(of: "rater"), let category = names.firstIndex(of: "category") else {
                throw ValidationError("\(file) line \(header.line): the header needs the columns item, rater and category (it has: \(header.fields.joined(separator: ", ")))")
            }
            var ratings: [Rating] = []
            var gold: [String: String] = [:]
            for record in records.dropFirst() {
                let width = max(item, rater, category) + 1
                guard record.fields.count >= width else {
                    throw ValidationError("\(file) line \(record.line): \(record.fields.count) fields, but the header needs at least \(width)")
                }
                let values = [item, rater, category].map { record.fields[$0].trimmingCharacters(in: .whitespaces) }
                for (name, value) in zip(["item", "rater", "category"], values) where value.isEmpty {
                    throw ValidationError("\(file) line \(record.line): \(name) is empty")
                }
                if values[1] == goldRater { gold[values[0]] = values[2] } else { ratings.append(Rating(item: values[0], rater: values[1], category: values[2])) }
            }
            guard !ratings.isEmpty else { throw ValidationError("\(file): no ratings (only a header, or only \(goldRater) rows)") }
            let known = categories.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } } ?? []
            let report = CalibrationReport(ratings: ratings, gold: gold, categories: known, confidence: confidence.confidence,
                                           target: target, contestedLimit: contested)
            if json {
                print(try Quality.encode(report))
                return
            }
            print("\(report.items) items, \(report.raters) raters, \(report.ratings) ratings; \(gold.count) gold answers; categories: \(report.categories.joined(separator: ", "))")
            let overall = report.overall
            print("")
            print("overall: agreement \(format(overall.percentAgreement))  Fleiss' kappa \(format(overall.fleissKappa))  Krippendorff's alpha \(format(overall.krippendorffAlpha))  Gwet's AC1 \(format(overall.gwetAC1))")
            print("")
            print("category              share   kappa   alpha     AC1")
            for row in report.perCategory {
                print("\(row.name.padding(toLength: 20, withPad: " ", startingAt: 0))  \(format(row.share, 3))  \(format(row.agreement.fleissKappa, 3))   \(format(row.agreement.krippendorffAlpha, 3))   \(format(row.agreement.gwetAC1, 3))")
            }
            print("")
            let level = Int((confidence.confidence * 100).rounded())
            print("rater                 checked  agreement  \(level) % interval         kappa")
            for row in report.perRater {
                let agreement = row.agreement
                print("\(row.name.padding(toLength: 20, withPad: " ", startingAt: 0))  \(String(agreement.checked).padding(toLength: 7, withPad: " ", startingAt: 0))  \(format(agreement.accuracy, 3))      \(format(agreement.interval).padding(toLength: 20, withPad: " ", startingAt: 0))  \(format(row.kappa, 3))  \(bar(agreement.accuracy))")
                for cell in row.byCategory {
                    print("  \(cell.group.padding(toLength: 18, withPad: " ", startingAt: 0))  \(String(cell.checked).padding(toLength: 7, withPad: " ", startingAt: 0))  \(format(cell.accuracy, 3))      \(format(cell.interval))")
                }
            }
            if let target {
                print("")
                if report.flags.isEmpty {
                    print("nobody is below \(format(target, 2)) beyond noise")
                } else {
                    print("below \(format(target, 2)) beyond noise (the whole interval under it):")
                    for flag in report.flags {
                        print("  \(flag.rater)\(flag.category.map { " on \($0)" } ?? " overall"): \(format(flag.accuracy, 3)) \(format(flag.interval))")
                    }
                }
            }
            if !report.contested.isEmpty {
                print("")
                print("most contested items (discuss these):")
                for item in report.contested {
                    let spread = zip(report.categories, item.counts).filter { $0.1 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
                    print("  \(item.item): agreement \(format(item.agreement, 2)); \(spread)\(item.gold.map { "; gold \($0)" } ?? "")")
                }
            }
        }
    }

    struct Size: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sample-size",
            abstract: "How many items to sample to estimate a rate within a margin.",
            discussion: """
                n₀ = z²·p(1−p)/E², with the finite-population correction n = n₀/(1 + (n₀−1)/N) when --population \
                is given. With --zero-defect RATE: the sample with no errors that shows the error rate is at most \
                RATE (one-sided, exact). Examples:
                  warden qa sample-size --margin 0.05 --population 12000
                  warden qa sample-size --zero-defect 0.01
                """)

        @Option(help: "The margin of error, such as 0.05 for ±5 points.") var margin: Double?
        @Option(help: "The rate you expect (0.5 when unknown: the largest sample).") var expected = 0.5
        @Option(help: "The population size (decisions in the period), for the finite-population correction.") var population: Int?
        @Option(help: "Instead: the sample with no errors that bounds the error rate at this rate.") var zeroDefect: Double?
        @OptionGroup var confidence: ConfidenceOption
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard (margin == nil) != (zeroDefect == nil) else { throw ValidationError("give --margin or --zero-defect (one of them)") }
            if let margin, !(margin > 0 && margin < 1) { throw ValidationError("--margin must be between 0 and 1 (such as 0.05), not \(margin)") }
            if let zeroDefect, !(zeroDefect > 0 && zeroDefect < 1) { throw ValidationError("--zero-defect must be between 0 and 1 (such as 0.01), not \(zeroDefect)") }
            guard expected > 0, expected < 1 else { throw ValidationError("--expected must be between 0 and 1, not \(expected)") }
            if let population, population < 1 { throw ValidationError("--population must be 1 or more") }
        }

        func run() throws {
            let level = confidence.confidence
            if let zeroDefect {
                let n = SampleSize.zeroDefect(rate: zeroDefect, confidence: level)
                if json { printJSON(["sample_size": n, "zero_defect_rate": zeroDefect, "confidence": level]); return }
                print("\(n) items with no errors show, at \(format(level * 100, 1)) % confidence, that the error rate is at most \(format(zeroDefect, 4))")
                return
            }
            let margin = margin ?? 0
            let n = SampleSize.proportion(margin: margin, confidence: level, expected: expected, population: population)
            if json {
                var object: [String: Any] = ["sample_size": n, "margin": margin, "expected": expected, "confidence": level, "z": Distributions.z(confidence: level)]
                if let population { object["population"] = population }
                printJSON(object)
                return
            }
            print("sample \(n)\(population.map { " of \($0)" } ?? "") to estimate a rate near \(format(expected, 2)) within ±\(format(margin, 4)) at \(format(level * 100, 1)) % confidence (z = \(format(Distributions.z(confidence: level), 4)))")
        }
    }

    struct Interval_: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "interval",
            abstract: "The interval of an accuracy (or any rate): Wilson, Clopper–Pearson and Wald.",
            discussion: "Example: warden qa interval --correct 188 --checked 200")

        @Option(help: "How many were correct (or positive).") var correct: Int
        @Option(help: "How many were checked.") var checked: Int
        @OptionGroup var confidence: ConfidenceOption
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard checked >= 1 else { throw ValidationError("--checked must be 1 or more") }
            guard correct >= 0, correct <= checked else { throw ValidationError("--correct must be between 0 and --checked (\(checked)), not \(correct)") }
        }

        func run() throws {
            let proportion = Proportion(successes: correct, trials: checked)
            let level = confidence.confidence
            let rows: [(String, WardenCore.Interval?)] = [
                ("wilson", proportion.wilson(confidence: level)),
                ("clopper_pearson", proportion.clopperPearson(confidence: level)),
                ("wald", proportion.wald(confidence: level)),
            ]
            if json {
                var object: [String: Any] = ["correct": correct, "checked": checked, "rate": proportion.estimate ?? 0, "confidence": level]
                for (name, interval) in rows { object[name] = interval.map { [$0.lower, $0.upper] } ?? [] }
                printJSON(object)
                return
            }
            print("\(correct) of \(checked): \(format(proportion.estimate)) \(bar(proportion.estimate))")
            for (name, interval) in rows { print("  \(name.replacingOccurrences(of: "_", with: "–").padding(toLength: 16, withPad: " ", startingAt: 0)) \(format(interval))") }
        }
    }

    struct Prevalence: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prevalence (a violation rate) from a stratified sample, with its interval.",
            discussion: """
                Each --stratum is population:sampled:positives. p̂ = Σ W_h p_h with W_h = N_h/N, and \
                Var(p̂) = Σ W_h² (1 − n_h/N_h) p_h(1 − p_h)/(n_h − 1). Example:
                  warden qa prevalence --stratum 900000:400:2 --stratum 90000:300:15 --stratum 10000:300:180
                """)

        @Option(name: .customLong("stratum"), help: "population:sampled:positives (repeat, one per stratum).") var strata: [String]
        @OptionGroup var confidence: ConfidenceOption
        @Flag(help: "Print JSON.") var json = false

        func parsed() throws -> [Stratum] {
            try strata.map { text in
                let parts = text.split(separator: ":").map { Int($0) }
                guard parts.count == 3, let population = parts[0], let sampled = parts[1], let positives = parts[2] else {
                    throw ValidationError("--stratum \(text): give it as population:sampled:positives, such as 90000:300:15")
                }
                guard sampled >= 2, sampled <= population, positives >= 0, positives <= sampled else {
                    throw ValidationError("--stratum \(text): needs 2 ≤ sampled ≤ population and 0 ≤ positives ≤ sampled")
                }
                return Stratum(population: population, sampled: sampled, positives: positives)
            }
        }

        func validate() throws {
            guard !strata.isEmpty else { throw ValidationError("give at least one --stratum population:sampled:positives") }
            _ = try parsed()
        }

        func run() throws {
            guard let estimate = StratifiedEstimate(try parsed(), confidence: confidence.confidence) else {
                throw ValidationError("the strata have no population")
            }
            if json {
                printJSON(["estimate": estimate.estimate, "standard_error": estimate.standardError,
                           "interval": [estimate.interval.lower, estimate.interval.upper], "confidence": confidence.confidence])
                return
            }
            print("prevalence \(format(estimate.estimate, 5)) (standard error \(format(estimate.standardError, 5))), \(format(confidence.confidence * 100, 1)) % interval \(format(estimate.interval))")
        }
    }
}

private extension Comparable {
    func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}
