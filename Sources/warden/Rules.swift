import ArgumentParser
import Foundation
import WardenCore
import WardenEngine
import WardenRules

struct Rules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check, test and backtest a policy pack's rules.",
        subcommands: [Check.self, Test.self, Replay.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a policy pack: every problem is listed with file:line:column; exit 1 if there is any."
        )
        @Argument(help: "The policy pack directory.") var pack = "policies/example"
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            do {
                let loaded = try PolicyPack.load(from: pack)
                if json {
                    printJSON(["pack": loaded.name, "version": loaded.version, "ok": true,
                               "rules": loaded.rules.rules.map { ["name": $0.name, "mode": $0.mode.rawValue, "version": $0.version, "category": $0.category] }])
                } else {
                    let modes = Dictionary(grouping: loaded.rules.rules, by: \.mode).mapValues(\.count)
                    print("\(pack): ok — \(loaded.rules.rules.count) rules (\(modes[.active] ?? 0) active, \(modes[.shadow] ?? 0) shadow, \(modes[.off] ?? 0) off), \(loaded.ruleTests.count) tests, version \(loaded.version)")
                }
            } catch {
                if json {
                    printJSON(["pack": pack, "ok": false, "problems": error.problems.map { problem -> [String: Any] in
                        ["file": problem.file, "line": problem.line ?? 0, "column": problem.column ?? 0, "message": problem.message]
                    }])
                } else {
                    FileHandle.standardError.write(Data((error.description + "\n").utf8))
                }
                throw ExitCode(1)
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the pack's rule tests (tests/*.yaml); prints 'N passed, N failed' and exits 1 on a failure."
        )
        @Argument(help: "The policy pack directory.") var pack = "policies/example"
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let loaded: PolicyPack
            do {
                loaded = try PolicyPack.load(from: pack)
            } catch {
                FileHandle.standardError.write(Data((error.description + "\n").utf8))
                throw ExitCode(1)
            }
            let results = loaded.runRuleTests()
            let failed = results.filter { !$0.passed }
            if json {
                printJSON(["passed": results.count - failed.count, "failed": failed.count,
                           "failures": failed.map { ["test": $0.test.name, "file": $0.test.file, "problems": $0.failures] }])
            } else {
                for result in results {
                    print("\(result.passed ? "pass" : "FAIL")  \(result.test.file): \(result.test.name)")
                    for failure in result.failures { print("        \(failure)") }
                }
                print("\(results.count - failed.count) passed, \(failed.count) failed")
            }
            if !failed.isEmpty { throw ExitCode(1) }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a pack's rules over stored history (or an NDJSON file) without effects and report what they would have done.",
            discussion: """
                Counters and labels are rebuilt as of each event. Reports hits per rule, overlap between rules and, with \
                --truth (a warden simulate truth file), precision per rule and recall and time to first signal per campaign.
                """
        )
        @OptionGroup var data: DataDirOption
        @OptionGroup var pack: PackOption
        @Option(help: "Replay this NDJSON file instead of the data dir's log.") var events: String?
        @Option(help: "Only events at or after this time (RFC 3339).") var from: String?
        @Option(help: "Only events before this time (RFC 3339).") var to: String?
        @Option(help: "Ground truth: a warden simulate truth file.") var truth: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let loaded = try pack.load()
            let schema = loaded.eventSchema
            let lower = try from.map { try Self.time($0, "--from") } ?? .min
            let upper = try to.map { try Self.time($0, "--to") } ?? .max
            var replay = WardenEngine.Replay(rules: loaded.rules)
            var progress = ProgressBar(label: "replay", total: nil)
            var count = 0
            func feed(_ body: [UInt8]) {
                guard let parsed = try? body.withUnsafeBufferPointer({ buffer throws(EventError) in try schema.parse(buffer, now: .max / 4) }),
                      parsed.occurredAt >= lower, parsed.occurredAt < upper else { return }
                replay.process(parsed, body: body)
                count += 1
                if count % 5000 == 0 { progress.update(count) }
            }
            if let events {
                guard let data = FileManager.default.contents(atPath: events) else { throw ValidationError("cannot read \(events)") }
                for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty { feed(Array(line)) }
            } else {
                let store = try await OpenedDataDir(data, exclusive: false).store
                var after: Int64 = 0
                while true {
                    let page = try await store.events(after: after, limit: 5000, type: nil)
                    guard let last = page.last else { break }
                    for event in page { feed(event.body) }
                    after = last.seq
                }
            }
            progress.update(count, force: true)
            progress.finish()
            let groundTruth = try truth.map { path -> GroundTruth in
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("cannot read \(path)") }
                return GroundTruth.simulatorTruth(text)
            }
            let report = replay.report(truth: groundTruth)
            if json {
                printJSON(Self.object(report))
            } else {
                print(Self.render(report))
            }
        }

        static func time(_ text: String, _ option: String) throws -> Int64 {
            guard let value = Timestamp.parseRFC3339(text) else { throw ValidationError("\(option) \(text) is not an RFC 3339 time") }
            return value
        }

        static func percent(_ value: Double?) -> String {
            value.map { String(format: "%.1f%%", $0 * 100) } ?? "—"
        }

        static func render(_ report: WardenEngine.Replay.Report) -> String {
            var lines = ["\(report.events) events replayed", "", "rule                              mode    hits  subjects  precision"]
            for rule in report.rules {
                lines.append(rule.rule.padding(toLength: 32, withPad: " ", startingAt: 0) + "  " + rule.mode.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)
                             + String(format: "%6d  %8d  ", rule.hits, rule.subjects.count) + percent(rule.precision))
            }
            if !report.kinds.isEmpty {
                lines += ["", "campaign               groups  subjects  caught  recall   missed  median time to first signal"]
                for kind in report.kinds {
                    let delay = kind.medianTimeToFirstSignal.map { String(format: "%.1fs", Double($0) / 1000) } ?? "—"
                    lines.append(kind.kind.padding(toLength: 22, withPad: " ", startingAt: 0)
                                 + String(format: " %6d  %8d  %6d  ", kind.groups, kind.subjects, kind.caughtSubjects)
                                 + percent(kind.recall).padding(toLength: 7, withPad: " ", startingAt: 0) + String(format: "  %6d  ", kind.missedGroups) + delay)
                }
            }
            if !report.overlaps.isEmpty {
                lines += ["", "rules firing on the same event"]
                for (first, second, count) in report.overlaps.prefix(10) { lines.append("  \(first) + \(second): \(count)") }
            }
            return lines.joined(separator: "\n")
        }

        static func object(_ report: WardenEngine.Replay.Report) -> [String: Any] {
            [
                "events": report.events,
                "rules": report.rules.map { rule -> [String: Any] in
                    var object: [String: Any] = ["rule": rule.rule, "mode": rule.mode.rawValue, "hits": rule.hits, "subjects": rule.subjects.count]
                    if let precision = rule.precision { object["precision"] = precision }
                    return object
                },
                "campaigns": report.kinds.map { kind -> [String: Any] in
                    var object: [String: Any] = ["campaign": kind.kind, "groups": kind.groups, "subjects": kind.subjects,
                                                 "caught_subjects": kind.caughtSubjects, "recall": kind.recall, "missed_groups": kind.missedGroups]
                    if let delay = kind.medianTimeToFirstSignal { object["median_seconds_to_first_signal"] = Double(delay) / 1000 }
                    return object
                },
                "overlaps": report.overlaps.map { ["rules": [$0.0, $0.1], "events": $0.2] },
            ]
        }
    }
}
