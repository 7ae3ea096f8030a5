import Foundation
import WardenCore
public import WardenRules
import Yams

/// A rule test from the pack's `tests/*.yaml`: a sequence of events and which rules must (and must
/// not) fire on them.
///
/// ```yaml
/// - name: many sign-ups from one IP are a farm
///   events:
///     - repeat: 21          # optional; {n} in any text becomes 0, 1, 2…
///       every: 10s          # spacing of generated occurred_at (default 1s)
///       event: {type: account.created, actor: {type: user, id: "farm{n}"}, entities: {ip: 198.51.100.9}}
///   expect:
///     fires: [signup_farm_ip]
///     does_not_fire: [link_spam]
///     verdict: challenge   # of the last event
/// ```
/// Events without `id` get `test-…` ids; without `occurred_at`, times from 2026-01-01T00:00:00Z on.
///
/// Tests never call a model: a step says what classifiers answer for its events, as one score
/// (for every category) or per category, and a classifier a step does not mention is unknown
/// (rules that need it do not fire), whether it is built in or served:
///
/// ```yaml
///     - event: {type: message.sent, actor: {type: user, id: u1}, data: {text: "cheap pills"}}
///       classifiers: {spam-policy: 0.97, sms-spam: {spam: 0.2}}
/// ```
public struct RuleTest: Sendable {
    /// The test's name.
    public var name: String
    /// The file it is in.
    public var file: String
    /// The events, as JSON text, in order.
    public var events: [[UInt8]]
    /// For each event, what classifiers answer (classifier → category → score).
    public var answers: [[String: [String: Double]]]
    /// Rules that must fire on at least one event.
    public var fires: [String]
    /// Rules that must fire on none.
    public var doesNotFire: [String]
    /// The verdict the last event must get, if given.
    public var verdict: Verdict?

    static let start: Int64 = 1_767_225_600_000

    /// Reads the tests in one YAML file.
    static func load(_ source: String, file: String, classifiers: Set<String> = [], categories: Set<String> = []) throws(PolicyPackError.Problem) -> [RuleTest] {
        let document: Any?
        do {
            document = try Yams.load(yaml: source)
        } catch {
            throw .init(file: file, message: "is not valid YAML: \(error)")
        }
        guard let entries = document as? [[String: Any]] else {
            throw .init(file: file, message: "must be a list of tests, each with name, events and expect")
        }
        var tests: [RuleTest] = []
        for (index, entry) in entries.enumerated() {
            let place = "[\(index)]"
            guard let name = entry["name"] as? String else { throw .init(file: file, path: place, message: "a test needs a name") }
            guard let steps = entry["events"] as? [[String: Any]], !steps.isEmpty else {
                throw .init(file: file, path: "\(place).events", message: "a test needs a list of events")
            }
            let expect = entry["expect"] as? [String: Any] ?? [:]
            var events: [[UInt8]] = []
            var answers: [[String: [String: Double]]] = []
            var time = start
            for (stepIndex, step) in steps.enumerated() {
                let event = (step["event"] as? [String: Any]) ?? step
                let repeatCount = step["event"] == nil ? 1 : (step["repeat"] as? Int ?? 1)
                let every = try (step["every"] as? String).map { text throws(PolicyPackError.Problem) -> Int64 in
                    guard let millis = Self.duration(text) else {
                        throw .init(file: file, path: "\(place).events[\(stepIndex)].every", message: "\(text) is not a duration such as 10s")
                    }
                    return millis
                } ?? 1000
                guard repeatCount >= 1, repeatCount <= 100_000 else {
                    throw .init(file: file, path: "\(place).events[\(stepIndex)].repeat", message: "repeat must be between 1 and 100000")
                }
                let stepAnswers = try Self.answers(step["event"] == nil ? nil : step["classifiers"], at: "\(place).events[\(stepIndex)].classifiers",
                                                   file: file, classifiers: classifiers, categories: categories)
                for repetition in 0..<repeatCount {
                    var object = substitute(event, n: repetition) as? [String: Any] ?? [:]
                    if object["id"] == nil { object["id"] = "test-\(index)-\(events.count)" }
                    if object["occurred_at"] == nil { object["occurred_at"] = Timestamp.formatRFC3339(time) }
                    guard JSONSerialization.isValidJSONObject(object), let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
                        throw .init(file: file, path: "\(place).events[\(stepIndex)]", message: "cannot be written as a JSON event")
                    }
                    events.append(Array(data))
                    answers.append(stepAnswers)
                    time += every
                }
            }
            let verdict = try (expect["verdict"] as? String).map { text throws(PolicyPackError.Problem) -> Verdict in
                guard let verdict = Verdict(rawValue: text) else {
                    throw .init(file: file, path: "\(place).expect.verdict", message: "a verdict is allow, challenge or block")
                }
                return verdict
            }
            tests.append(RuleTest(name: name, file: file, events: events, answers: answers, fires: expect["fires"] as? [String] ?? [],
                                  doesNotFire: expect["does_not_fire"] as? [String] ?? [], verdict: verdict))
        }
        return tests
    }

    /// A step's `classifiers`: each declared classifier's answer, one score for every category
    /// or a score per category, each between 0 and 1.
    private static func answers(_ value: Any?, at path: String, file: String, classifiers: Set<String>,
                                categories: Set<String>) throws(PolicyPackError.Problem) -> [String: [String: Double]] {
        guard let value else { return [:] }
        guard let entries = value as? [String: Any] else {
            throw .init(file: file, path: path, message: "classifiers maps a classifier to a score, such as {spam-policy: 0.97}")
        }
        var answers: [String: [String: Double]] = [:]
        for (name, answer) in entries {
            guard classifiers.contains(name) else {
                throw .init(file: file, path: "\(path).\(name)", message: "\(name) is not a classifier declared in classifiers.yaml")
            }
            func score(_ any: Any, _ at: String) throws(PolicyPackError.Problem) -> Double {
                guard let number = (any as? Double) ?? (any as? Int).map(Double.init), (0...1).contains(number) else {
                    throw .init(file: file, path: at, message: "a score is a number between 0 and 1")
                }
                return number
            }
            if let perCategory = answer as? [String: Any] {
                var scores: [String: Double] = [:]
                for (category, value) in perCategory {
                    guard categories.contains(category) else {
                        throw .init(file: file, path: "\(path).\(name).\(category)", message: "\(category) is not in the taxonomy")
                    }
                    scores[category] = try score(value, "\(path).\(name).\(category)")
                }
                answers[name] = scores
            } else {
                let uniform = try score(answer, "\(path).\(name)")
                answers[name] = Dictionary(uniqueKeysWithValues: categories.map { ($0, uniform) })
            }
        }
        return answers
    }

    private static func substitute(_ value: Any, n: Int) -> Any {
        switch value {
        case let text as String: return text.replacingOccurrences(of: "{n}", with: String(n))
        case let object as [String: Any]: return object.mapValues { substitute($0, n: n) }
        case let array as [Any]: return array.map { substitute($0, n: n) }
        default: return value
        }
    }

    private static func duration(_ text: String) -> Int64? {
        DurationText.millis(text)
    }
}

/// The outcome of one rule test.
public struct RuleTestResult: Sendable {
    /// The test.
    public var test: RuleTest
    /// What went wrong; empty when it passed.
    public var failures: [String]
    /// Whether it passed.
    public var passed: Bool { failures.isEmpty }
}

extension PolicyPack {
    /// Runs every rule test on a fresh detector, with every rule evaluated (shadow rules count as
    /// firing; `off` rules are tested as if active, since a test checks the rule's logic).
    public func runRuleTests() -> [RuleTestResult] {
        // Hash banks match against the pack's seed files; derived tables are not available.
        let seeds = SeedLookups(matcher: banks.seedMatcher)
        return ruleTests.map { test in
            var detector = Detector(rules: rules.withAllRulesActive())
            detector.lookups = seeds
            var fired = Set<String>()
            var lastVerdict = Verdict.allow
            var failures: [String] = []
            for (index, body) in test.events.enumerated() {
                // What the step says classifiers answer; every other classifier is unknown.
                detector.scorers = test.answers[index].mapValues { FixedScorer(scores: $0) }
                detector.servedClassifiers = []
                do {
                    let parsed = try body.withUnsafeBufferPointer { buffer throws(EventError) in
                        try eventSchema.parse(buffer, now: Int64.max / 4)
                    }
                    let evaluation = detector.process(parsed, body: body)
                    fired.formUnion(evaluation.hits.map(\.rule))
                    lastVerdict = evaluation.verdict
                } catch let error as EventError {
                    failures.append("event \(index + 1) is invalid: \(error.field.map { "\($0): " } ?? "")\(error.message)")
                } catch {
                    failures.append("event \(index + 1) is invalid: \(error)")
                }
            }
            for rule in test.fires where !fired.contains(rule) { failures.append("expected \(rule) to fire, it did not") }
            for rule in test.doesNotFire where fired.contains(rule) { failures.append("expected \(rule) not to fire, it did") }
            if let verdict = test.verdict, verdict != lastVerdict {
                failures.append("expected verdict \(verdict.rawValue) on the last event, got \(lastVerdict.rawValue)")
            }
            return RuleTestResult(test: test, failures: failures)
        }
    }
}

/// A classifier that answers the same scores whatever the text (what a rule test's step says).
struct FixedScorer: TextScorer {
    let scores: [String: Double]

    func scores(of text: String) -> [String: Double] { scores }
}
