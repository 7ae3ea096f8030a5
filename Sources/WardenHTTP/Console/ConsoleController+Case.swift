import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenIncidents
import WardenReview
import WardenStore

/// The review screen: the case in full and everything a reviewer does with it.
extension ConsoleController {
    struct CaseView {
        struct EntityView {
            struct Link { var ref: String; var type: String; var id: String }
            var firstSeen: String
            var eventCount: Int
            var labels: [String]
            var events: [EventView]
            var links: [Link]
            var hasLinks: Bool
        }
        struct Signal { var rule: String; var version: String; var category: String; var severity: String; var verdict: String?; var explanation: String }
        struct Report { var reporter: String; var weight: String; var muted: Bool; var duplicate: Bool; var category: String }
        struct Decision { var at: String; var decidedBy: String; var summary: String; var rationale: String?; var path: String? }
        struct Entry { var at: String; var kind: String; var actor: String; var transition: String?; var detail: String }
        struct Tree {
            struct Question { struct Answer { var label: String; var href: String; var key: String }; var text: String; var help: String?; var answers: [Answer] }
            struct Outcome { var id: String; var category: String; var violation: Bool; var actionText: String; var policy: String }
            var name: String
            var treeName: String
            var description: String?
            var path: [String]
            var question: Question?
            var outcome: Outcome?
            var answerList: [String]
            var walking: Bool
        }
        struct Category { var id: String; var name: String; var selected: Bool }
        struct Action { var name: String; var label: String; var needsDuration: Bool; var checked: Bool }
        struct Macro { var name: String; var kind: String; var selected: Bool }
        struct Form { var violation: Bool; var policy: String; var rationale: String; var illegal: Bool; var legalGround: String }
        struct Preview { var kind: String; var text: String }

        var id: Int64
        var caseID: Int64
        var csrf: String
        var kind: String
        var isAppeal: Bool
        var state: String
        var queue: String
        var band: String
        var score: Int
        var category: String
        var severity: String
        var slaStatus: String
        var dueAt: String?
        var assignee: String?
        var leaseExpiresAt: String?
        var heldByMe: Bool
        var canDecide: Bool
        var onHold: Bool
        var escalationReason: String?
        var appealOf: Int64?
        var canWork: Bool
        var canClaim: Bool
        var canRelease: Bool
        var canHold: Bool
        var canResume: Bool
        var queues: [String]
        var people: [String]
        struct OtherCase { var id: Int64; var state: String; var category: String; var decision: String? }
        var subject: String
        var subjectLink: Bool
        var strikes: [String]
        var otherCases: [OtherCase]
        var hasOtherCases: Bool
        var subjectType: String
        var subjectID: String
        var blur: Bool
        var grayscale: Bool
        var muteMedia: Bool
        var entity: EntityView?
        var signals: Int
        var reports: Int
        var reporterWeight: String
        var signalList: [Signal]
        var reportList: [Report]
        var decisions: [Decision]
        var timeline: [Entry]
        var earlierEntries: Int
        var hasEarlier: Bool
        var tree: Tree?
        var categories: [Category]
        var actions: [Action]
        var suggestion: String?
        var requiresPolicy: Bool
        var requiresRationale: Bool
        var macros: [Macro]
        var form: Form
        var preview: Preview?
        /// The form without a tree starts open when there is no tree, or when it was just used.
        var manualOpen: Bool
        struct LinkedIncident { var id: Int64; var title: String; var severity: String; var status: String }
        /// Incidents the case is linked to, and those it could be linked to.
        var incidents: [LinkedIncident] = []
        var hasIncidents = false
        struct ArticleLink { var id: String; var title: String }
        /// Knowledge articles about the case's category or queue.
        var articles: [ArticleLink] = []
        var hasArticles = false
        var openIncidents: [LinkedIncident] = []
        var hasOpenIncidents = false
        var incidentSeverities: [String] = []
    }

    /// What a decision form said, kept to show it again (after a preview or a refusal).
    struct DecisionInput {
        var category: String?
        var violation = false
        var actions: [String] = []
        var durations: [String: String] = [:]
        var policy = ""
        var rationale = ""
        var illegal = false
        var legalGround = ""
        var macro: String?
        var outcome: DecisionDraft.AppealOutcome?
        var tree: String?
        var answers: [String] = []
        var next = false

        init() {}

        init(_ form: ConsoleForm) throws {
            category = form.text("category")
            violation = form["violation"] == "true"
            actions = form.all("action")
            for action in actions { durations[action] = form.text("duration.\(action)") }
            policy = form.text("policy") ?? ""
            rationale = form.text("rationale") ?? ""
            illegal = form["illegal"] == "true"
            legalGround = form.text("legal_ground") ?? ""
            macro = form.text("macro")
            outcome = form.text("outcome").flatMap(DecisionDraft.AppealOutcome.init(rawValue:))
            tree = form.text("tree")
            answers = form.all("answer")
            next = form["next"] == "1"
            guard policy.count <= 200, rationale.count <= 5000, legalGround.count <= 500, answers.count <= 50 else {
                throw ConsoleRefusal("a field is longer than the form allows (policy 200, rationale 5,000, legal ground 500 characters)")
            }
        }

        func draft(defaultCategory: String) throws -> DecisionDraft {
            var requested: [RequestedAction] = []
            for action in actions {
                var duration: Int64?
                if let text = durations[action] {
                    guard let millis = DurationText.millis(text) else { throw ConsoleRefusal("the duration of \(action), \"\(text.prefix(20))\", is not a duration such as 24h or 7d") }
                    duration = millis
                }
                requested.append(RequestedAction(name: action, duration: duration))
            }
            return DecisionDraft(category: category ?? defaultCategory, violation: outcome.map { $0 == .upheld } ?? violation, actions: requested,
                                 policy: policy.isEmpty ? nil : policy, rationale: rationale.isEmpty ? nil : rationale, illegal: illegal,
                                 legalGround: legalGround.isEmpty ? nil : legalGround, macro: macro, appealOutcome: outcome)
        }
    }

    @Sendable func showCase(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        _ = try person(context, needs: .casesRead)
        let id = try context.id()
        let query = request.uri.queryParameters
        let walk = query["tree"].map { tree -> (String, [String]) in (String(tree), query.getAll("answer").map { String($0) }) }
        return try await renderCase(id, context, input: nil, walk: walk, showAll: query["timeline"] == "all")
    }

    /// The review screen for case `id`, with the decision form as `input` left it and the tree walked as far as `walk`.
    /// Timeline entries a case page shows unless asked for all.
    static let timelineShown = 200

    func renderCase(_ id: Int64, _ context: WardenRequestContext, input: DecisionInput?, walk: (String, [String])? = nil,
                    preview: OutgoingMessage? = nil, error: String? = nil, showAll: Bool = false) async throws -> Response {
        let user = try person(context, needs: .casesRead)
        let record = try await ReviewController.run { try await review.caseRecord(id: id) }
        try ReviewController.requireQueue(record.queue, context)
        let opened = try await ReviewController.run { try await review.open(caseID: id, actor: context.actor) }
        let pack = components.packs.pack
        let policy = review.policy
        let configuration = policy.configuration
        let definition = configuration.queues[record.queue]
        let now = components.clock.nowMillis()
        let mask = context.masksPersonalData
        func masked(_ text: String) -> String { mask ? PersonalData.mask(text: text) : text }
        let status = CaseSLAStatus(record, policy: policy, now: now)
        let heldByMe = record.assignee == context.actor && (record.state == .inReview || record.state == .onHold)
        let commands = Set(CaseLifecycle.allowedCommands(from: record.state).map(\.verb))
        var canWork = Scope.casesReview.isSatisfied(by: user.role.scopes)
        if canWork { canWork = (try? api.requireWork(record.queue, context)) != nil }

        // The subject: its events (content), labels and linked entities.
        var entityView: CaseView.EntityView?
        let store = components.store
        let indexStatus = try await store.entityIndexStatus()
        if indexStatus.lag > 0, indexStatus.lag <= EntitiesController.catchUpLimit { try await EntityIndexer.catchUp(store) }
        if let detail = try await store.entity(record.subject, recentLimit: 10, linkLimit: 20) {
            let scorers = components.packs.classifiers.scorers
            let labels = try await store.labels(of: record.subject, at: now).map(\.name)
            entityView = .init(
                firstSeen: Timestamp.formatRFC3339(detail.firstSeenAt), eventCount: detail.eventCount, labels: labels,
                events: detail.recentEvents.map { EventView($0, masked: mask, scorers: scorers) },
                links: detail.links.map { .init(ref: mask ? PersonalData.mask(entity: $0.entity.description) : $0.entity.description, type: $0.entity.type, id: $0.entity.id) },
                hasLinks: !detail.links.isEmpty)
        }
        let signals = try await store.signals(before: nil, limit: 20, subject: record.subject, rule: nil)
            .filter { $0.caseID == nil || $0.caseID == record.id }
            .map { CaseView.Signal(rule: $0.rule, version: $0.ruleVersion, category: $0.category, severity: $0.severity, verdict: $0.verdict,
                                   explanation: masked($0.explanation)) }
        var reports: [CaseView.Report] = []
        var entries: [CaseView.Entry] = []
        // The newest entries (a case reported thousands of times has thousands); reports likewise.
        let shown = showAll ? opened.timeline[...] : opened.timeline.suffix(Self.timelineShown)
        for entry in shown {
            let detail = JSONValue.parse(Array(entry.detail.utf8))
            if entry.kind == .report, reports.count < Self.timelineShown, let detail {
                reports.append(.init(reporter: masked(detail["reporter"]?.consoleString ?? ""), weight: detail["weight"]?.consoleString ?? "",
                                     muted: detail["muted"] != nil, duplicate: detail["duplicate"] != nil, category: detail["category"]?.consoleString ?? ""))
            }
            let transition = entry.fromState.map { "\($0.rawValue) → \(entry.toState?.rawValue ?? "")" } ?? entry.toState.map { "→ \($0.rawValue)" }
            entries.append(.init(at: Timestamp.formatRFC3339(entry.at), kind: entry.kind.rawValue, actor: entry.actor.description, transition: transition,
                                 detail: masked(detail?.consoleSummary ?? entry.detail)))
        }
        let decisions = opened.decisions.map { decision in
            CaseView.Decision(at: Timestamp.formatRFC3339(decision.at), decidedBy: decision.decidedBy.description,
                              summary: [decision.category, decision.violation ? "violation" : "no violation", decision.appealOutcome?.rawValue,
                                        decision.actions.isEmpty ? nil : decision.actions.map(\.action).joined(separator: ", ")].compactMap { $0 }.joined(separator: " · "),
                              rationale: decision.rationale.map(masked), path: decision.treePath.flatMap { Self.pathText($0) })
        }

        // Deciding: the tree that applies, the form, the ladder's suggestion.
        var form = input ?? DecisionInput()
        if input == nil { form.violation = true }
        let category = form.category ?? record.category
        var treeView: CaseView.Tree?
        let treeName = walk?.0 ?? form.tree
        let tree = treeName.flatMap { pack.review.trees[$0] } ?? pack.review.trees.values.sorted { $0.name < $1.name }.first { tree in
            tree.categories.contains { record.category == $0 || record.category.hasPrefix($0 + ".") }
        }
        if let tree, record.kind == .review {
            let answers = walk?.1 ?? form.answers
            let walked = try? review.walk(tree: tree.name, answers: answers)
            var view = CaseView.Tree(name: tree.name, treeName: tree.name, description: tree.description, path: walked?.path ?? [], question: nil,
                                     outcome: nil, answerList: answers, walking: !answers.isEmpty)
            switch walked?.position {
            case .question(let question)?:
                let base = "/cases/\(id)?tree=\(ConsolePage.queryEscape(tree.name))" + answers.map { "&answer=" + ConsolePage.queryEscape($0) }.joined()
                view.question = .init(text: question.text, help: question.help, answers: question.answers.enumerated().map { index, answer in
                    .init(label: answer.label, href: base + "&answer=" + ConsolePage.queryEscape(answer.label), key: index < 9 ? String(index + 1) : "")
                })
            case .outcome(let outcome)?:
                view.outcome = .init(id: outcome.id, category: outcome.category, violation: outcome.violation, actionText: outcome.actions.joined(separator: ", "),
                                     policy: outcome.policy ?? "")
            case nil:
                view.walking = true
            }
            treeView = view
        }
        let catalogue = pack.review.catalogue
        let allowed = definition?.allowedActions ?? catalogue.actions.keys.sorted()
        let suggestion = record.kind == .review ? try await review.ladderSuggestion(for: record, category: category) : nil
        let others = try await otherCases(of: record)
        var view = CaseView(
            id: record.id, caseID: record.id, csrf: context.session?.csrfToken ?? "", kind: record.kind.rawValue, isAppeal: record.kind == .appeal,
            state: record.state.rawValue, queue: record.queue, band: record.band.name, score: record.score, category: record.category, severity: record.severity,
            slaStatus: status.status.rawValue, dueAt: status.dueAt.map(Timestamp.formatRFC3339), assignee: record.assignee?.description,
            leaseExpiresAt: record.leaseExpiresAt.map(Timestamp.formatRFC3339), heldByMe: heldByMe && canWork,
            canDecide: heldByMe && canWork && record.state == .inReview, onHold: heldByMe && canWork && record.state == .onHold,
            escalationReason: record.escalationReason.map(masked), appealOf: record.appealOf, canWork: canWork,
            canClaim: commands.contains("claim") && !heldByMe, canRelease: commands.contains("release"), canHold: commands.contains("hold"),
            canResume: commands.contains("resume"), queues: configuration.queueOrder.filter { $0 != record.queue },
            people: try await reviewers(except: user.name),
            subject: mask ? PersonalData.mask(entity: record.subject.description) : record.subject.description,
            subjectLink: Scope.read.isSatisfied(by: user.role.scopes),
            strikes: try await review.liveStrikes(of: record.subject).map { "\($0.policy) until \(Timestamp.formatRFC3339($0.expiresAt).prefix(10))" },
            otherCases: others, hasOtherCases: !others.isEmpty,
            subjectType: record.subject.type, subjectID: record.subject.id, blur: definition?.blur ?? false, grayscale: definition?.grayscale ?? false,
            muteMedia: definition?.muteMedia ?? false,
            entity: entityView, signals: record.signals, reports: record.reports, reporterWeight: String(format: "%.2f", record.reporterWeight),
            signalList: signals, reportList: reports, decisions: decisions, timeline: entries.reversed(), earlierEntries: opened.timeline.count - shown.count,
            hasEarlier: opened.timeline.count > shown.count, tree: treeView,
            categories: pack.taxonomy.categories.map { .init(id: $0.id, name: $0.name, selected: $0.id == category) },
            actions: allowed.compactMap { name in
                catalogue.actions[name].map { .init(name: name, label: name.replacingOccurrences(of: "_", with: " "), needsDuration: $0.needsDuration,
                                                    checked: form.actions.contains(name)) }
            },
            suggestion: suggestion.map { $0.name + ($0.duration.map { " " + DurationText.format($0) } ?? "") },
            requiresPolicy: definition?.requiresPolicy ?? false, requiresRationale: definition?.requiresRationale ?? false,
            macros: pack.review.macros.keys.sorted().map { .init(name: $0, kind: pack.review.macros[$0].map { "\($0.kind)" } ?? "", selected: $0 == form.macro) },
            form: .init(violation: form.violation, policy: form.policy, rationale: form.rationale, illegal: form.illegal, legalGround: form.legalGround),
            preview: preview.map { .init(kind: $0.kind.rawValue, text: masked($0.text)) },
            manualOpen: treeView == nil || (input != nil && input?.tree == nil))
        let guidance = pack.articles.values.filter { $0.applies(category: record.category, queue: record.queue) }.sorted { $0.title < $1.title }
        view.articles = guidance.map { .init(id: $0.id, title: $0.title) }
        view.hasArticles = !guidance.isEmpty
        if Scope.incidentsRead.isSatisfied(by: user.role.scopes) || canWork {
            func linked(_ incident: IncidentRecord) -> CaseView.LinkedIncident {
                .init(id: incident.id, title: incident.title, severity: incident.severity, status: incident.status.rawValue)
            }
            let linkedIncidents = try await components.incidents.store.incidents(linkedTo: IncidentLink(.case, String(record.id)))
            view.incidents = linkedIncidents.map(linked)
            view.hasIncidents = !linkedIncidents.isEmpty
            if canWork {
                let open = try await components.incidents.store.incidents(status: nil, openOnly: true, before: nil, limit: 20)
                    .filter { $0.status.isActive && !linkedIncidents.map(\.id).contains($0.id) }
                view.openIncidents = open.map(linked)
                view.hasOpenIncidents = !open.isEmpty
                view.incidentSeverities = components.incidents.pack.settings.severities.map(\.id)
            }
        }
        return render("case", title: "Case \(id)", path: "/cases/\(id)", context, body: view,
                      status: error == nil ? .ok : .unprocessableContent, error: error)
    }

    /// The subject's other cases, newest first, with how each was decided. A golden item mixed into a
    /// live queue shows the history its source case had when it was opened (not the source case and
    /// its decision, which is the key).
    func otherCases(of record: CaseRecord) async throws -> [CaseView.OtherCase] {
        var others: [CaseView.OtherCase] = []
        var openedBefore = Int64.max
        if let source = try await components.store.goldenSource(caseID: record.id) {
            openedBefore = try await components.store.caseRecord(id: source)?.createdAt ?? Int64.min
        }
        for other in try await review.cases(CaseQuery(subject: record.subject, limit: 11)) where other.id != record.id && other.createdAt < openedBefore {
            let decision = try await components.store.decisions(caseID: other.id).last
            others.append(.init(id: other.id, state: other.state.rawValue, category: other.category,
                                decision: decision.map { $0.violation ? "violation" : "no violation" }))
        }
        return Array(others.prefix(10))
    }

    /// People a case can be handed to or asked about.
    func reviewers(except name: String) async throws -> [String] {
        try await components.store.users().filter { $0.disabledAt == nil && $0.name != name && Scope.casesReview.isSatisfied(by: $0.role.scopes) }.map(\.name)
    }

    static func pathText(_ json: String) -> String? {
        guard case .array(let steps)? = JSONValue.parse(Array(json.utf8)) else { return nil }
        return steps.compactMap(\.consoleString).joined(separator: " › ")
    }

    // MARK: Changes

    @Sendable func decide(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let (_, form) = try await post(request, context, needs: .casesReview)
        let id = try context.id()
        let input = try DecisionInput(form)
        let record = try await ReviewController.run { try await review.caseRecord(id: id) }
        try api.requireWork(record.queue, context)
        do {
            let draft = try input.draft(defaultCategory: record.category)
            if record.kind == .review, input.tree == nil, form["violation"] == nil { throw ConsoleRefusal("say whether the case breaks policy") }
            let tree = input.tree.map { (name: $0, answers: input.answers) }
            let decision = try await ReviewController.run { try await review.decide(caseID: id, draft, tree: tree, actor: context.actor, read: record) }
            var notice = "Case \(id) decided (decision \(decision.id))."
            if input.next {
                do {
                    if let next = try await review.claimNext(queue: record.queue, reviewer: context.actor) {
                        ConsolePage.leaveNotice(notice + " Next: case \(next.id).", for: context)
                        return ConsolePage.redirect("/cases/\(next.id)")
                    }
                    notice += " Queue \(record.queue) has nothing more waiting for you."
                } catch let refusal as ReviewError {
                    // The decision stands; the next claim was refused (an exposure limit): say why.
                    notice += " No next case: " + refusal.message
                }
            }
            ConsolePage.leaveNotice(notice, for: context)
            return ConsolePage.redirect(input.next ? "/" : "/cases/\(id)")
        } catch let refusal as ConsoleRefusal {
            return try await renderCase(id, context, input: input, error: refusal.message)
        } catch let problem as Problem where problem.status == .unprocessableContent || problem.status == .conflict {
            return try await renderCase(id, context, input: input, error: problem.detail)
        }
    }

    @Sendable func preview(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let (_, form) = try await post(request, context, needs: .casesReview)
        let id = try context.id()
        let input = try DecisionInput(form)
        let record = try await ReviewController.run { try await review.caseRecord(id: id) }
        try api.requireWork(record.queue, context)
        guard let macro = input.macro else { return try await renderCase(id, context, input: input, error: "choose a macro to preview") }
        do {
            var draft = try input.draft(defaultCategory: record.category)
            if draft.actions.isEmpty, draft.violation, let suggestion = try await review.ladderSuggestion(for: record, category: draft.category) {
                draft.actions = [suggestion]
            }
            let message = try await ReviewController.run { try await review.previewMacro(macro, caseID: id, draft: draft) }
            return try await renderCase(id, context, input: input, preview: message)
        } catch let refusal as ConsoleRefusal {
            return try await renderCase(id, context, input: input, error: refusal.message)
        }
    }

    @Sendable func reveal(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let (_, form) = try await post(request, context, needs: .casesRead)
        let id = try context.id()
        let record = try await ReviewController.run { try await review.caseRecord(id: id) }
        try ReviewController.requireQueue(record.queue, context)
        let item = try form.required("item", label: "the item to reveal", max: 100)
        try await review.recordReveal(caseID: id, item: item, actor: context.actor)
        if request.headers[.accept]?.contains("application/json") == true { return Response(status: .noContent) }
        ConsolePage.leaveNotice("Revealed \(item) (recorded in the audit log).", for: context)
        return ConsolePage.redirect("/cases/\(id)")
    }

    func change(_ verb: String, _ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let (_, form) = try await post(request, context, needs: .casesReview)
        let id = try context.id()
        let record = try await ReviewController.run { try await review.caseRecord(id: id) }
        try api.requireWork(record.queue, context)
        let note = form.text("note")
        let notice: String
        do {
            switch verb {
            case "claim":
                _ = try await ReviewController.run { try await review.claim(caseID: id, reviewer: context.actor) }
                notice = "You hold case \(id)."
            case "renew":
                let renewed = try await ReviewController.run { try await review.change(caseID: id, .renew, actor: context.actor) }
                if request.headers[.accept]?.contains("application/json") == true {
                    let until = renewed.leaseExpiresAt.map(Timestamp.formatRFC3339) ?? ""
                    return Response(status: .ok, headers: [.contentType: "application/json"],
                                    body: .init(byteBuffer: ByteBuffer(string: #"{"lease_expires_at":"\#(until)"}"#)))
                }
                notice = "Lease renewed."
            case "release", "hold", "resume":
                let command: CaseCommand = verb == "release" ? .release : verb == "hold" ? .hold : .resume
                _ = try await ReviewController.run { try await review.change(caseID: id, .command(command, note: note), actor: context.actor) }
                notice = verb == "release" ? "Case \(id) is back in \(record.queue)." : verb == "hold" ? "Case \(id) is on hold." : "Case \(id) resumed."
                if verb == "release" {
                    ConsolePage.leaveNotice(notice, for: context)
                    return ConsolePage.redirect("/")
                }
            case "handoff":
                let name = try form.required("reviewer", label: "the reviewer", max: 100)
                _ = try await ReviewController.run { try await review.change(caseID: id, .handoff(to: ActorRef(.user, name), note: note), actor: context.actor) }
                ConsolePage.leaveNotice("Case \(id) handed to \(name).", for: context)
                return ConsolePage.redirect("/")
            case "consult":
                let name = try form.required("reviewer", label: "the reviewer", max: 100)
                let question = try form.required("question", label: "the question", max: 5000)
                _ = try await ReviewController.run { try await review.change(caseID: id, .consult(with: ActorRef(.user, name), question: question), actor: context.actor) }
                notice = "Asked \(name)."
            case "comment":
                let text = try form.required("text", label: "the comment", max: 10_000)
                _ = try await ReviewController.run { try await review.change(caseID: id, .comment(text), actor: context.actor) }
                notice = "Comment added."
            case "escalate":
                let queue = try form.required("queue", label: "the queue", max: 100)
                let reason = try form.required("reason", label: "the reason", max: 2000)
                _ = try await ReviewController.run { try await review.change(caseID: id, .escalate(queue: queue, reason: reason), actor: context.actor) }
                ConsolePage.leaveNotice("Case \(id) escalated to \(queue).", for: context)
                return ConsolePage.redirect("/")
            default:
                throw Problem.notFound("no such case action \(verb)")
            }
        } catch let problem as Problem where problem.status == .conflict || problem.status == .unprocessableContent || problem.status == .notFound {
            return try await renderCase(id, context, input: nil, error: problem.detail)
        } catch let refusal as ConsoleRefusal {
            return try await renderCase(id, context, input: nil, error: refusal.message)
        }
        ConsolePage.leaveNotice(notice, for: context)
        return ConsolePage.redirect("/cases/\(id)")
    }

    @Sendable func answerConsult(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let (_, form) = try await post(request, context, needs: .casesReview)
        let id = try context.id()
        let answer = try form.required("answer", label: "the answer", max: 10_000)
        if let asked = try await review.consult(id: id), asked.reviewer == context.actor { try ReviewController.requireQueue(asked.queue, context) }
        let consult = try await ReviewController.run { try await review.answerConsult(id: id, answer: answer, actor: context.actor) }
        ConsolePage.leaveNotice("Answered the consult on case \(consult.caseID).", for: context)
        return ConsolePage.redirect("/")
    }
}

extension JSONValue {
    /// A string, number or boolean as text.
    var consoleString: String? {
        switch self {
        case .string(let text): text
        case .number(let number): number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .bool(let value): value ? "true" : "false"
        default: nil
        }
    }

    var boolValue: Bool? { if case .bool(let value) = self { value } else { nil } }

    /// An object's members as "name: value" pairs, for a timeline line.
    var consoleSummary: String {
        guard case .object(let members) = self else { return consoleString ?? "" }
        return members.keys.sorted().compactMap { key in
            let value = members[key]!
            switch value {
            case .array(let items): return "\(key): \(items.compactMap(\.consoleString).joined(separator: ", "))"
            case .object: return nil
            default: return value.consoleString.map { "\(key): \($0)" }
            }
        }.joined(separator: " · ")
    }
}
