import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenQuality
import WardenReview
import WardenStore

/// The QA pages: the QA queue (blind re-reviews), findings on one's own decisions and disputes,
/// drawing audits, rulings, and accuracy per reviewer, team, queue and policy — the same operations
/// and numbers as `/v1/quality/audits`, `/v1/quality/qa/…` and `/v1/quality/accuracy`.
extension ConsoleController {
    struct AccuracyView {
        struct Row { var group: String; var checked: Int; var accuracy: String; var interval: String; var below: Bool }
        struct Section { var id: String; var title: String; var rows: [Row]; var hasRows: Bool }
        struct ErrorRow { var id: String; var name: String; var count: Int; var rate: String; var policies: String }
        var overall: String
        var sections: [Section]
        var errors: [ErrorRow]
        var progress: String
        var hasTarget: Bool
        var target: String

        init(_ report: QAReport) {
            func row(_ row: AccuracyRow) -> Row {
                Row(group: row.group, checked: row.checked, accuracy: row.accuracy.map { String(format: "%.1f%%", $0 * 100) } ?? "—",
                    interval: row.interval.map { String(format: "%.1f–%.1f%%", $0.lower * 100, $0.upper * 100) } ?? "", below: row.belowTarget == true)
            }
            let o = report.overall
            overall = o.checked == 0 ? "No decision has been re-reviewed yet."
                : "\(o.correct) of \(o.checked) re-reviewed decisions were right: " + String(format: "%.1f%%", (o.accuracy ?? 0) * 100)
                + (o.interval.map { String(format: " (%.1f–%.1f%%, %@)", $0.lower * 100, $0.upper * 100, report.method == .wilson ? "Wilson" : "Clopper–Pearson") } ?? "") + "."
            sections = [("reviewers", "By reviewer", report.byReviewer), ("teams", "By team (vendor)", report.byTeam),
                        ("queues", "By queue", report.byQueue), ("policies", "By policy area", report.byPolicy),
                        ("models", "Models on the same items (their answer against the settled one)", report.byModel)]
                .map { Section(id: $0.0, title: $0.1, rows: $0.2.map(row), hasRows: !$0.2.isEmpty) }
            errors = report.errors.filter { $0.count > 0 }.map { error in
                ErrorRow(id: error.id, name: error.name, count: error.count, rate: error.rate.value.map { String(format: "%.1f%%", $0 * 100) } ?? "—",
                         policies: error.byPolicy.map { "\($0.policy) \($0.count)" }.joined(separator: ", "))
            }
            let p = report.progress
            progress = "\(p.items) drawn: \(p.waiting) waiting, \(p.inReview) in review, \(p.reviewed) reviewed (\(p.agreed) agreed, "
                + "\(p.disagreed) disagreed, \(p.disputed) disputed, \(p.ruled) ruled, \(p.ruledForOriginal) of them for the original)."
            hasTarget = report.target != nil
            target = report.target.map { String(format: "%.0f%%", $0 * 100) } ?? ""
        }
    }

    struct QAView {
        struct Audit { var id: Int64; var name: String; var created: String; var by: String; var population: Int; var drawn: Int; var plan: String }
        struct Item { var id: Int64; var caseID: Int64; var queue: String; var state: String; var original: String; var verdict: String
            var errors: String; var reason: String; var canDispute: Bool }
        struct Option { var value: String; var selected: Bool }
        var canReview: Bool
        var canDraw: Bool
        var canRead: Bool
        var canDispute: Bool
        var waiting: Int
        var audits: [Audit]
        var hasAudits: Bool
        var accuracy: AccuracyView?
        var findings: [Item]
        var hasFindings: Bool
        var disputes: [Item]
        var hasDisputes: Bool
        var queues: [String]
        var policies: [String]
        var csv: String
    }

    static func planText(_ plan: SamplingPlan) -> String {
        var parts: [String] = []
        for (name, value) in [("queue", plan.queue), ("reviewer", plan.reviewer), ("team", plan.team), ("policy", plan.policy)] {
            if let value { parts.append("\(name) \(value)") }
        }
        switch plan.sizing {
        case .margin(let margin, let confidence, _): parts.append(String(format: "±%.1f%% at %.0f%%", margin * 100, confidence * 100))
        case .rate(let rate): parts.append(String(format: "%.1f%% of decisions", rate * 100))
        case .count(let count): parts.append("\(count) decisions")
        }
        if let by = plan.stratifyBy { parts.append("by \(by.rawValue)\(plan.allocation == .perStratum ? ", each to the margin" : "")") }
        return parts.joined(separator: "; ")
    }

    func itemView(_ item: QAItem, me: ActorRef) -> QAView.Item {
        func finding(_ violation: Bool, _ category: String?) -> String { violation ? "violation: \(category ?? "?")" : "no violation" }
        return QAView.Item(id: item.id, caseID: item.caseID, queue: item.queue, state: item.state.rawValue.replacingOccurrences(of: "_", with: " "),
                           original: item.revealsOriginal ? "\(finding(item.violation, item.category)) by \(item.decider)" : "hidden until the verdict",
                           verdict: item.verdict.map { finding($0.violation, $0.category) + ($0.notes.map { " — \($0)" } ?? "") } ?? "",
                           errors: item.verdict?.errors.joined(separator: ", ") ?? "", reason: item.disputeReason ?? "",
                           canDispute: item.state == .disagreed && item.decider == me.description)
    }

    @Sendable func qaPage(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context)
        let scopes = user.role.scopes
        let canReview = Scope.qualityReview.isSatisfied(by: scopes), canDraw = Scope.qualityWrite.isSatisfied(by: scopes)
        let canRead = Scope.qualityRead.isSatisfied(by: scopes), canDispute = Scope.casesReview.isSatisfied(by: scopes)
        guard canReview || canDraw || canRead || canDispute else {
            throw Problem(.forbidden, "forbidden", title: "Not allowed", detail: "QA needs the quality:read, quality:review or cases:review scope")
        }
        let quality = components.quality
        let me = context.actor
        let waiting = canReview ? try await quality.store.qaItems(QAItemQuery(states: [.waiting], limit: 10_000)).filter { $0.decider != me.description }.count : 0
        let audits = canRead ? try await quality.store.audits(before: nil, limit: 50) : []
        let accuracy = canRead ? AccuracyView(try await quality.report(days: 28)) : nil
        let findings = canDispute ? try await quality.findings(for: me, limit: 50) : []
        let disputes = canDraw ? try await quality.openDisputes(limit: 100) : []
        let pack = components.packs.pack
        let view = QAView(
            canReview: canReview, canDraw: canDraw, canRead: canRead, canDispute: canDispute, waiting: waiting,
            audits: audits.map { .init(id: $0.id, name: $0.name, created: Self.day($0.createdAt), by: $0.createdBy, population: $0.population,
                                       drawn: $0.sampleSize, plan: Self.planText($0.plan)) },
            hasAudits: !audits.isEmpty, accuracy: accuracy,
            findings: findings.map { itemView($0, me: me) }, hasFindings: !findings.isEmpty,
            disputes: disputes.map { itemView($0, me: me) }, hasDisputes: !disputes.isEmpty,
            queues: pack.review.configuration.queues.keys.sorted(), policies: pack.taxonomy.categoryIDs.sorted(),
            csv: "/qa/accuracy.csv")
        return render("qa", title: "QA", path: "/qa", context, body: view)
    }

    struct QAAuditView {
        var id: Int64
        var name: String
        var plan: String
        var window: String
        var drawn: String
        var strata: [SampleDraw.Stratum]
        var hasStrata: Bool
        var accuracy: AccuracyView
        var items: [QAView.Item]
    }

    @Sendable func qaAuditPage(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        _ = try person(context, needs: .qualityRead)
        let id = try context.id()
        let quality = components.quality
        let audit = try await QualityController.run { try await quality.audit(id: id) }
        let items = try await quality.items(auditID: id)
        let view = QAAuditView(id: audit.id, name: audit.name, plan: Self.planText(audit.plan),
                               window: "decisions from \(Self.day(audit.from)) to \(Self.day(audit.to - 1))",
                               drawn: "\(audit.sampleSize) drawn of \(audit.population) by \(audit.createdBy) on \(Self.day(audit.createdAt))",
                               strata: audit.strata, hasStrata: !audit.strata.isEmpty,
                               accuracy: AccuracyView(try await quality.report(auditID: id)),
                               items: items.map { itemView($0, me: context.actor) })
        return render("qa-audit", title: "QA audit \(audit.id)", path: "/qa", context, body: view)
    }

    struct QAItemView {
        struct Choice { var id: String; var name: String; var description: String; var checked: Bool }
        var id: Int64
        var item: QAView.Item
        var mine: Bool
        var blind: Bool
        var agrees: Bool
        var subject: String
        var caseID: Int64
        var entity: CaseView.EntityView?
        var policies: [String]
        var errorTypes: [Choice]
        var canRule: Bool
        var ruling: String
    }

    @Sendable func qaItemPage(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context, needs: .qualityReview)
        let id = try context.id()
        let quality = components.quality
        let item = try await QualityController.run { try await quality.item(id: id) }
        let record = try await ReviewController.run { try await review.caseRecord(id: item.caseID) }
        let store = components.store
        let mask = context.masksPersonalData
        var entity: CaseView.EntityView?
        let indexStatus = try await store.entityIndexStatus()
        if indexStatus.lag > 0, indexStatus.lag <= EntitiesController.catchUpLimit { try await EntityIndexer.catchUp(store) }
        if let detail = try await store.entity(record.subject, recentLimit: 10, linkLimit: 0) {
            let scorers = components.packs.classifiers.scorers
            entity = .init(firstSeen: Timestamp.formatRFC3339(detail.firstSeenAt), eventCount: detail.eventCount, labels: [],
                           events: detail.recentEvents.map { EventView($0, masked: mask, scorers: scorers) }, links: [], hasLinks: false)
        }
        let view = QAItemView(
            id: item.id, item: itemView(item, me: context.actor), mine: item.state == .inReview && item.reviewer == context.actor.description,
            blind: !item.revealsOriginal, agrees: item.verdict.map { QAItem.agrees($0, violation: item.violation, category: item.category) } ?? false,
            subject: mask ? PersonalData.mask(entity: record.subject.description) : record.subject.description, caseID: record.id, entity: entity,
            policies: components.packs.pack.taxonomy.categoryIDs.sorted(),
            errorTypes: quality.errorTypes.map { .init(id: $0.id, name: $0.name, description: $0.description, checked: false) },
            canRule: item.state == .disputed && Scope.qualityWrite.isSatisfied(by: user.role.scopes),
            ruling: item.ruling.map { "Ruled by \(item.ruledBy ?? "?"): the \($0 == .original ? "original decision" : "QA verdict") stands" + (item.rulingNotes.map { " — \($0)" } ?? "") + "." } ?? "")
        return render("qa-item", title: "QA item \(item.id)", path: "/qa", context, body: view)
    }

    /// `POST /qa/next`, `/qa/audits`, `/qa/items/{id}/{action}`: the QA operations from forms.
    @Sendable func qaNext(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        _ = try await post(request, context, needs: .qualityReview)
        guard let item = try await QualityController.run({ try await components.quality.claimNext(auditID: nil, actor: context.actor) }) else {
            ConsolePage.leaveNotice("Nothing is waiting for a QA re-review that you may take.", for: context)
            return ConsolePage.redirect("/qa")
        }
        return ConsolePage.redirect("/qa/items/\(item.id)")
    }

    @Sendable func qaDraw(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let (_, form) = try await post(request, context, needs: .qualityWrite)
        let name = try form.required("name", label: "The audit's name", max: 200)
        guard let days = Int(form.text("days") ?? "28"), (1...QualityService.maximumDays).contains(days) else { throw ConsoleRefusal("days is 1 to 366") }
        guard let amount = form.text("amount").flatMap(Double.init) else { throw ConsoleRefusal("give the sample's margin, rate or size") }
        let sizing: SamplingPlan.Sizing
        switch form["sizing"] {
        case "margin":
            guard amount >= 1 && amount <= 50 else { throw ConsoleRefusal("the margin is 1 to 50 percentage points") }
            sizing = .margin(amount / 100, confidence: 0.95, expected: 0.5)
        case "rate":
            guard amount > 0 && amount <= 100 else { throw ConsoleRefusal("the rate is above 0 and at most 100 %") }
            sizing = .rate(amount / 100)
        default:
            guard amount >= 1 && amount <= 10_000 && amount == amount.rounded() else { throw ConsoleRefusal("the size is a whole number from 1 to 10000") }
            sizing = .count(Int(amount))
        }
        let stratifyBy = form.text("stratify_by").flatMap(SamplingPlan.StratifyBy.init(rawValue:))
        let plan = SamplingPlan(queue: form.text("queue"), reviewer: form.text("reviewer"), team: form.text("team"), policy: form.text("policy"),
                                sizing: sizing, stratifyBy: stratifyBy, allocation: stratifyBy != nil && form["allocation"] == "per_stratum" ? .perStratum : .proportional,
                                seed: UInt64(components.clock.nowMillis()))
        let audit = try await QualityController.run { try await components.quality.createAudit(name: name, plan: plan, days: days, actor: context.actor) }
        ConsolePage.leaveNotice("Audit \(audit.id) drew \(audit.sampleSize) of \(audit.population) decisions into the QA queue.", for: context)
        return ConsolePage.redirect("/qa/audits/\(audit.id)")
    }

    @Sendable func qaItemAction(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let id = try context.id()
        let action = context.path("action")
        let scope: Scope = switch action {
        case "dispute": .casesReview
        case "ruling": .qualityWrite
        default: .qualityReview
        }
        let (user, form) = try await post(request, context, needs: scope)
        let command: QACommand
        switch action {
        case "verdict":
            let violation = form["violation"] == "yes"
            command = .verdict(QAVerdict(violation: violation, category: violation ? form.text("category") : nil, errors: form.all("error"),
                                         notes: form.text("notes")))
        case "release": command = .release
        case "dispute": command = .dispute(reason: try form.required("reason", label: "The reason", max: 10_000))
        case "ruling": command = .rule(form["stands"] == "original" ? .original : .qa, notes: form.text("notes"))
        default: throw Problem.notFound("there is no QA action \(action.prefix(40))")
        }
        return try await Self.refusingQuality {
            let item = try await components.quality.command(itemID: id, command, actor: context.actor, isLead: Scope.qualityWrite.isSatisfied(by: user.role.scopes))
            switch action {
            case "verdict":
                ConsolePage.leaveNotice(item.correct == true ? "Verdict recorded: you agree with the original decision."
                                        : "Verdict recorded: you disagree with the original decision.", for: context)
                return ConsolePage.redirect("/qa/items/\(id)")
            case "release":
                ConsolePage.leaveNotice("QA item \(id) is back in the QA queue.", for: context)
                return ConsolePage.redirect("/qa")
            default:
                ConsolePage.leaveNotice(action == "dispute" ? "Your dispute of QA item \(id) waits for a lead's ruling." : "Ruling on QA item \(id) recorded.", for: context)
                return ConsolePage.redirect("/qa")
            }
        }
    }

    /// The QA accuracy of the last 28 days as CSV: every group of every dimension.
    @Sendable func qaAccuracyCSV(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        _ = try person(context, needs: .qualityRead)
        let report = try await components.quality.report(days: 28)
        var rows = [["dimension", "group", "checked", "correct", "accuracy", "low", "high", "below_target"]]
        for (dimension, group) in [("overall", [report.overall]), ("reviewer", report.byReviewer), ("team", report.byTeam),
                                   ("queue", report.byQueue), ("policy", report.byPolicy), ("model", report.byModel)] {
            for row in group {
                rows.append([dimension, row.group, String(row.checked), String(row.correct), row.accuracy.map { String(format: "%.4f", $0) } ?? "",
                             row.interval.map { String(format: "%.4f", $0.lower) } ?? "", row.interval.map { String(format: "%.4f", $0.upper) } ?? "",
                             row.belowTarget.map { $0 ? "yes" : "no" } ?? ""])
            }
        }
        return ConsolePage.csv(rows, filename: "warden-qa-accuracy-28d.csv")
    }
}
