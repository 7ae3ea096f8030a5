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
public struct RuleTest: Sendable {
    /// The test's name.
    public var name: String
    /// The file it is in.
    public var file: String
    /// The events, as JSON text, in order.
    public var events: [[UInt8]]
    /// Rules that must fire on at least one event.
    public var fires: [String]
    /// Rules that must fire on none.
    public var doesNotFire: [String]
    /// The verdict the last event must get, if given.
    public var verdict: Verdict?

    static let start: Int64 = 1_767_225_600_000

    /// Reads the tests in one YAML file.
    static func load(_ source: String, file: String) throws(PolicyPackError.Problem) -> [RuleTest] {
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
                for repetition in 0..<repeatCount {
                    var object = substitute(event, n: repetition) as? [String: Any] ?? [:]
                    if object["id"] == nil { object["id"] = "test-\(index)-\(events.count)" }
                    if object["occurred_at"] == nil { object["occurred_at"] = Timestamp.formatRFC3339(time) }
                    guard JSONSerialization.isValidJSONObject(object), let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
                        throw .init(file: file, path: "\(place).events[\(stepIndex)]", message: "cannot be written as a JSON event")
                    }
                    events.append(Array(data))
                    time += every
                }
            }
            let verdict = try (expect["verdict"] as? String).map { text throws(PolicyPackError.Problem) -> Verdict in
                guard let verdict = Verdict(rawValue: text) else {
                    throw .init(file: file, path: "\(place).expect.verdict", message: "a verdict is allow, challenge or block")
                }
                return verdict
            }
            tests.append(RuleTest(name: name, file: file, events: events, fires: expect["fires"] as? [String] ?? [],
                                  doesNotFire: expect["does_not_fire"] as? [String] ?? [], verdict: verdict))
        }
        return tests
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
        ruleTests.map { test in
            var detector = Detector(rules: rules.withAllRulesActive())
            var fired = Set<String>()
            var lastVerdict = Verdict.allow
            var failures: [String] = []
            for (index, body) in test.events.enumerated() {
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
