import Foundation
public import WardenCore
public import WardenRules
public import WardenStore

/// Changing one rule from the console: check the new text as it is typed, try it (the pack's
/// tests and a backtest over recent events), and save it as shadow or active. Saving writes the
/// rule's file in the pack directory and reloads the pack through ``PackManager``: the same
/// checks and tests as any reload, so a failing pack never goes live, and the file is put back
/// as it was when the reload refuses it. Every save is versioned (rule history) and audited.
public actor RuleEditor {
    private let packs: PackManager
    private let events: any EventStore
    private let audit: any AuditStore
    private let clock: any WallClock

    public init(packs: PackManager, events: any EventStore, audit: any AuditStore, clock: any WallClock = SystemWallClock()) {
        self.packs = packs
        self.events = events
        self.audit = audit
        self.clock = clock
    }

    /// A rule as its file holds it.
    public struct Located: Sendable {
        public var rule: CompiledRule
        public var file: String
        public var fileText: String
    }

    /// A problem with the new text, where it is in the rule's file.
    public struct Problem: Sendable, Equatable {
        public var file: String
        public var line: Int?
        public var column: Int?
        public var message: String

        public var location: String { [file, line.map(String.init), column.map(String.init)].compactMap { $0 }.joined(separator: ":") }
    }

    /// What a trial found: the compile's problems, the pack's tests, and the backtest.
    public struct Trial: Sendable {
        public var problems: [Problem]
        public var testsRun: Int
        public var testFailures: [String]
        public var backtest: Backtest?
    }

    /// The rule's new version against its current one, over the same recent events.
    public struct Backtest: Sendable {
        public var hours: Int
        public var events: Int
        /// Whether the window held more events than a backtest reads (its oldest ones were read).
        public var truncated: Bool
        public var current: Replay.RuleStats?
        public var candidate: Replay.RuleStats?
    }

    public enum Saved: Sendable {
        case activated(version: String, packVersion: String)
        case refused([String])
    }

    /// The most events a backtest replays.
    public static let backtestLimit = 200_000

    enum EditError: Error, CustomStringConvertible {
        case noRule(String)
        case moved(String)
        var description: String {
            switch self {
            case .noRule(let name): "the pack has no rule \(name)"
            case .moved(let name): "rule \(name) is not where the pack says in its file (was the file edited on disk?); reload the page"
            }
        }
    }

    /// The rule `name` of the pack in force, with its file's text.
    public nonisolated func locate(_ name: String) throws -> Located {
        let pack = packs.pack
        guard let rule = pack.rules.rules.first(where: { $0.name == name }) else { throw EditError.noRule(name) }
        let path = (pack.directory as NSString).appendingPathComponent(rule.location.file)
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8),
              text.contains(rule.source) else { throw EditError.moved(name) }
        return Located(rule: rule, file: rule.location.file, fileText: text)
    }

    /// The file's text with the rule's text replaced by `text`.
    nonisolated func replacing(_ located: Located, with text: String) -> String {
        guard let range = located.fileText.range(of: located.rule.source) else { return located.fileText }
        return located.fileText.replacingCharacters(in: range, with: text)
    }

    /// Checks the rule's new text in its file among the pack's other rules.
    public nonisolated func check(_ name: String, text: String) throws -> (problems: [Problem], rules: RuleSet?) {
        let located = try locate(name)
        do {
            let rules = try packs.pack.compileRules(replacing: located.file, with: replacing(located, with: text))
            var problems: [Problem] = []
            if !rules.rules.contains(where: { $0.name == name }) {
                problems.append(Problem(file: located.file, message: "the text must still define rule \(name) (rename rules in the pack's files)"))
            }
            return (problems, problems.isEmpty ? rules : nil)
        } catch {
            return (error.problems.map { Problem(file: $0.file, line: $0.line, column: $0.column, message: $0.message) }, nil)
        }
    }

    /// Checks the text, runs the pack's tests with it, and replays the last `hours` of events
    /// through the current and the new rule set.
    public func trial(_ name: String, text: String, hours: Int) async throws -> Trial {
        let (problems, candidate) = try check(name, text: text)
        guard let candidate else { return Trial(problems: problems, testsRun: 0, testFailures: [], backtest: nil) }
        var pack = packs.pack
        let current = pack.rules
        pack.rules = candidate
        let results = pack.runRuleTests()
        let failures = results.filter { !$0.passed }.map { "\($0.test.file): \($0.test.name): \($0.failures.joined(separator: "; "))" }
        let backtest = try await replay(current: current, candidate: candidate, rule: name, hours: hours, schema: pack.eventSchema)
        return Trial(problems: [], testsRun: results.count, testFailures: failures, backtest: backtest)
    }

    private func replay(current: RuleSet, candidate: RuleSet, rule: String, hours: Int, schema: EventSchema) async throws -> Backtest {
        let now = clock.nowMillis()
        var before = Replay(rules: current)
        var after = Replay(rules: candidate)
        var count = 0
        var truncated = false
        if let first = try await events.firstSeq(receivedSince: now - Int64(hours) * 3_600_000) {
            var cursor = first - 1
            read: while true {
                let page = try await events.events(after: cursor, limit: 5000, type: nil)
                for event in page {
                    if count == Self.backtestLimit {
                        truncated = true
                        break read
                    }
                    guard let parsed = try? event.body.withUnsafeBufferPointer({ buffer throws(EventError) in try schema.parse(buffer, now: .max / 4) }) else { continue }
                    before.process(parsed, body: event.body)
                    after.process(parsed, body: event.body)
                    count += 1
                }
                guard let last = page.last, page.count == 5000 else { break }
                cursor = last.seq
                await Task.yield()
            }
        }
        return Backtest(hours: hours, events: count, truncated: truncated,
                        current: before.report(truth: nil).rules.first { $0.rule == rule },
                        candidate: after.report(truth: nil).rules.first { $0.rule == rule })
    }

    /// Saves the rule's new text with its mode set, and reloads the pack. Refused (the file put
    /// back) when the pack does not check or its tests fail.
    public func save(_ name: String, text: String, mode: RuleMode, actor: ActorRef) async throws -> Saved {
        let located = try locate(name)
        let newText = RuleSource.settingMode(text, to: mode)
        let (problems, _) = try check(name, text: newText)
        guard problems.isEmpty else { return .refused(problems.map { "\($0.location): \($0.message)" }) }
        let path = (packs.pack.directory as NSString).appendingPathComponent(located.file)
        try Data(replacing(located, with: newText).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        let outcome = try await packs.reload(actor: actor.description)
        switch outcome {
        case .activated(let pack), .unchanged(let pack):
            let version = pack.rules.rules.first { $0.name == name }?.version ?? ""
            var detail = JSONWriter(capacity: 128)
            detail.beginObject()
            detail.field("file", located.file)
            detail.field("version", version)
            detail.field("previous_version", located.rule.version)
            detail.field("mode", mode.rawValue)
            detail.field("pack_version", pack.version)
            detail.endObject()
            try await audit.audit(actor: actor, action: "rules.edit", target: "rule:\(name)", detail: String(decoding: detail.bytes, as: UTF8.self),
                                  now: clock.nowMillis())
            return .activated(version: version, packVersion: pack.version)
        case .rejected(let reasons):
            try Data(located.fileText.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            return .refused(reasons)
        }
    }
}
