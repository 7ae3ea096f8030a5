import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenRules
import WardenStore

/// Rules: every rule with its mode, version, hourly hits and precision from review; a rule's
/// history with diffs; and, for people who may change rules, the editor (``RuleEditor``).
extension ConsoleController {
    struct RulesView {
        struct Row { var name: String; var description: String?; var category: String; var severity: String; var mode: String; var demoted: String?
            var version: String; var hits: Int; var sparkline: String; var precision: String }
        var rules: [Row]
    }

    static func precisionText(_ value: (violations: Int, decided: Int)?) -> String {
        guard let value, value.decided > 0 else { return "—" }
        return String(format: "%.0f%% of %d", Double(value.violations) / Double(value.decided) * 100, value.decided)
    }

    @Sendable func rules(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        _ = try person(context, needs: .read)
        let hour = components.clock.nowMillis() / 3_600_000
        let hits = try await components.store.ruleHits(sinceHour: hour - 23)
        let precision = try await components.store.rulePrecision()
        let demotions = components.detection.demotions
        let rows = components.detection.rules.rules.map { rule -> RulesView.Row in
            var perHour = [Double](repeating: 0, count: 24)
            for count in hits where count.rule == rule.name {
                let index = Int(count.hour - (hour - 23))
                if (0..<24).contains(index) { perHour[index] += Double(count.hits) }
            }
            return .init(name: rule.name, description: rule.description, category: rule.category, severity: rule.severity,
                         mode: demotions[rule.name] == nil ? rule.mode.rawValue : RuleMode.shadow.rawValue, demoted: demotions[rule.name],
                         version: rule.version, hits: Int(perHour.reduce(0, +)), sparkline: SVG.sparkline(perHour, label: "\(rule.name) hits per hour"),
                         precision: Self.precisionText(precision[rule.name]))
        }
        return render("rules", title: "Rules", path: "/rules", context, body: RulesView(rules: rows))
    }

    struct RuleView {
        struct ProblemRow { var location: String; var message: String }
        struct HoursOption { var hours: Int; var selected: Bool }
        struct DiffLine { var kind: String; var sign: String; var text: String }
        struct Version { var version: String; var mode: String; var since: String; var packVersion: String; var diff: [DiffLine]; var hasDiff: Bool }
        struct TrialView {
            struct BacktestView { var hours: Int; var events: Int; var truncated: Bool; var candidateHits: Int; var candidateSubjects: Int
                var currentHits: Int; var currentSubjects: Int; var samples: [String]; var hasSamples: Bool }
            var testsRun: Int
            var failures: [String]
            var failureCount: Int
            var passed: Bool
            var backtest: BacktestView?
        }
        var name: String
        var description: String?
        var mode: String
        var version: String
        var file: String
        var line: Int
        var text: String
        var canEdit: Bool
        var csrf: String
        var problems: [ProblemRow]
        var hasProblems: Bool
        var checked: Bool
        var hoursOptions: [HoursOption]
        var trial: TrialView?
        var shadowDefault: Bool
        var history: [Version]
    }

    static let backtestHours = [1, 6, 24, 72, 168]

    func renderRule(_ name: String, _ context: WardenRequestContext, text: String? = nil, problems: [RuleEditor.Problem] = [], checked: Bool = false,
                    trial: RuleEditor.Trial? = nil, hours: Int = 24, error: String? = nil) async throws -> Response {
        let user = try person(context, needs: .read)
        guard let rule = components.packs.pack.rules.rules.first(where: { $0.name == name }) else {
            throw Problem.notFound("the pack has no rule \(name.prefix(100))")
        }
        let versions = try await components.store.ruleVersions().filter { $0.rule == name }.sorted { $0.firstActiveAt > $1.firstActiveAt }
        var history: [RuleView.Version] = []
        for (index, version) in versions.enumerated() {
            let previous = versions[safe: index + 1]
            let diff = previous.map { LineDiff.diff($0.source, version.source) } ?? []
            history.append(.init(version: version.version, mode: version.mode, since: Timestamp.formatRFC3339(version.firstActiveAt),
                                 packVersion: version.packVersion,
                                 diff: diff.map { .init(kind: $0.kind.rawValue, sign: $0.kind == .added ? "+" : $0.kind == .removed ? "-" : " ", text: $0.text) },
                                 hasDiff: !diff.isEmpty))
        }
        let trialView = trial.map { trial in
            RuleView.TrialView(
                testsRun: trial.testsRun, failures: trial.testFailures, failureCount: trial.testFailures.count,
                passed: trial.problems.isEmpty && trial.testFailures.isEmpty,
                backtest: trial.backtest.map { backtest in
                    .init(hours: backtest.hours, events: backtest.events, truncated: backtest.truncated, candidateHits: backtest.candidate?.hits ?? 0,
                          candidateSubjects: backtest.candidate?.subjects.count ?? 0, currentHits: backtest.current?.hits ?? 0,
                          currentSubjects: backtest.current?.subjects.count ?? 0, samples: backtest.candidate?.sampleEvents ?? [],
                          hasSamples: !(backtest.candidate?.sampleEvents.isEmpty ?? true))
                })
        }
        let view = RuleView(
            name: rule.name, description: rule.description, mode: rule.mode.rawValue, version: rule.version, file: rule.location.file,
            line: rule.location.line, text: text ?? rule.source, canEdit: Scope.rulesWrite.isSatisfied(by: user.role.scopes),
            csrf: context.session?.csrfToken ?? "", problems: problems.map { .init(location: $0.location, message: $0.message) },
            hasProblems: !problems.isEmpty, checked: checked,
            hoursOptions: Self.backtestHours.map { .init(hours: $0, selected: $0 == hours) }, trial: trialView,
            shadowDefault: rule.mode != .active || text != nil, history: history)
        return render("rule", title: "Rule \(name)", path: "/rules", context, body: view,
                      status: error == nil && problems.isEmpty ? .ok : .unprocessableContent, error: error)
    }

    @Sendable func rule(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        try await renderRule(context.path("name"), context)
    }

    /// The editor's text from a form, bounded.
    func ruleText(_ form: ConsoleForm) throws -> String {
        let text = (form["text"] ?? "").replacingOccurrences(of: "\r\n", with: "\n")
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ConsoleRefusal("the rule text is empty") }
        guard text.count <= 20_000 else { throw ConsoleRefusal("the rule text is longer than 20,000 characters") }
        return text
    }

    /// Diagnostics for the editor as the person types, as JSON.
    @Sendable func checkRule(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let (_, form) = try await post(request, context, needs: .rulesWrite)
        let (problems, _) = try components.ruleEditor.check(context.path("name"), text: try ruleText(form))
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        writer.key("problems")
        writer.beginArray()
        for problem in problems {
            writer.beginObject()
            writer.field("location", problem.location)
            writer.field("message", problem.message)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }

    @Sendable func trialRule(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let (_, form) = try await post(request, context, needs: .rulesWrite)
        let name = context.path("name")
        let text = try ruleText(form)
        let hours = form["hours"].flatMap(Int.init).flatMap { Self.backtestHours.contains($0) ? $0 : nil } ?? 24
        let trial = try await components.ruleEditor.trial(name, text: text, hours: hours)
        return try await renderRule(name, context, text: text, problems: trial.problems, checked: true, trial: trial, hours: hours)
    }

    @Sendable func saveRule(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let (_, form) = try await post(request, context, needs: .rulesWrite)
        let name = context.path("name")
        let text = try ruleText(form)
        guard let mode = form["mode"].flatMap(RuleMode.init(rawValue:)), mode != .off else { throw ConsoleRefusal("save as shadow or active") }
        switch try await components.ruleEditor.save(name, text: text, mode: mode, actor: context.actor) {
        case .activated(let version, let packVersion):
            ConsolePage.leaveNotice("Saved \(name) as \(mode.rawValue): version \(version) is live (pack \(packVersion)).", for: context)
            return ConsolePage.redirect("/rules/\(name)")
        case .refused(let reasons):
            return try await renderRule(name, context, text: text, checked: true,
                                        error: "Not saved: the pack would not go live. " + reasons.prefix(5).joined(separator: "; "))
        }
    }
}

extension SVG {
    /// A small line of values (hits per hour), with its total as its title.
    static func sparkline(_ values: [Double], label: String, width: Double = 120, height: Double = 24) -> String {
        let maximum = max(values.max() ?? 0, 1)
        let step = width / Double(max(values.count - 1, 1))
        let points = values.enumerated().map { "\(number(Double($0.offset) * step)),\(number(height - 2 - (height - 4) * $0.element / maximum))" }
            .joined(separator: " ")
        return ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \##(number(width)) \##(number(height))" class="spark" role="img" aria-label="\##(escape(label))"><polyline points="\##(points)" fill="none" stroke="#1f5fbf" stroke-width="1.5"/></svg>"##
    }
}
