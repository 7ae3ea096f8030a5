import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenQuality
import WardenReview
import WardenStore

/// The calibration and training pages: training and certification for everyone who reviews;
/// calibration sessions (rated blind, then revealed with the agreement report and a discussion);
/// golden items and certifications for leads — the same operations as `/v1/quality/golden`,
/// `/v1/quality/sessions`, `/v1/quality/training` and `/v1/quality/certifications`.
extension ConsoleController {
    struct CalibrationView {
        struct Training { var queue: String; var rule: String; var golden: Int; var status: String; var canStart: Bool }
        struct Session { var id: Int64; var kind: String; var name: String; var state: String; var progress: String; var created: String }
        struct Golden { var id: Int64; var queue: String; var answer: String; var text: String; var explanation: String; var source: String }
        struct Held { var user: String; var queue: String; var score: String; var granted: String; var status: String; var active: Bool }
        struct Check { var group: String; var answered: String; var accuracy: String; var flagged: Bool }
        var training: [Training]
        var hasTraining: Bool
        var sessions: [Session]
        var hasSessions: Bool
        var isLead: Bool
        var seesAll: Bool
        var golden: [Golden]
        var hasGolden: Bool
        var certifications: [Held]
        var hasCertifications: Bool
        /// Golden items mixed into live queues: where, and each reviewer's accuracy on them (28 days).
        var mix: String
        var checks: [Check]
        var hasChecks: Bool
        var queues: [String]
        var answers: [String]
        var models: [String]
        var hasModels: Bool
    }

    @Sendable func calibrationPage(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context, needs: .casesRead)
        let scopes = user.role.scopes
        let isLead = Scope.qualityWrite.isSatisfied(by: scopes), seesAll = Scope.qualityRead.isSatisfied(by: scopes)
        let canTrain = Scope.casesReview.isSatisfied(by: scopes)
        let quality = components.quality
        let me = context.actor.description
        let mine = Dictionary(try await quality.store.certifications(user: me, queue: nil).map { ($0.queue, $0) }, uniquingKeysWith: { first, _ in first })
        var training: [CalibrationView.Training] = []
        for (queue, rule) in quality.certificationRules.sorted(by: { $0.key < $1.key }) {
            let golden = try await quality.store.goldenCount(queue: queue)
            let held = mine[queue]
            let status = held.map { $0.isActive ? String(format: "Certified (%.0f%%) on %@", $0.score * 100, Self.day($0.grantedAt))
                : "Revoked on \(Self.day($0.revokedAt ?? 0))\($0.revokeReason.map { ": \($0)" } ?? "")" } ?? "Not certified"
            training.append(.init(queue: queue, rule: String(format: "%d golden items, %.0f%% right to pass%@", rule.items, rule.threshold * 100,
                                                             rule.required ? "; required to work the queue" : ""),
                                  golden: golden, status: status, canStart: canTrain && golden >= rule.items && held?.isActive != true))
        }
        let sessions = try await quality.store.sessions(kind: nil, rater: seesAll ? nil : me, before: nil, limit: 50)
        let golden = seesAll ? try await quality.store.goldenItems(queue: nil, retired: false, after: nil, limit: 200) : []
        let certifications = seesAll ? try await quality.store.certifications(user: nil, queue: nil) : []
        let mask = context.masksPersonalData
        let models = components.packs.classifiers.scorers.keys.sorted()
        let checks = seesAll ? try await quality.goldenChecks(days: 28) : nil
        var checkRows: [CalibrationView.Check] = []
        for row in (checks.map { [$0.overall] + $0.byReviewer } ?? []) where row.checked > 0 {
            var accuracy = "–"
            if let value = row.accuracy {
                accuracy = String(format: "%.0f%%", value * 100)
                if let interval = row.interval { accuracy += String(format: " (%.0f–%.0f%%)", interval.lower * 100, interval.upper * 100) }
            }
            checkRows.append(.init(group: row.group == "all" ? "Everyone" : row.group, answered: "\(row.correct) of \(row.checked)",
                                   accuracy: accuracy, flagged: row.belowTarget == true))
        }
        let mix = quality.goldenMix.sorted { $0.key < $1.key }.map { String(format: "%@ (%.1f%% of claims)", $0.key, $0.value * 100) }
        let view = CalibrationView(
            training: training, hasTraining: !training.isEmpty,
            sessions: sessions.map { session, rated in
                let total = session.raters.count * session.items.count
                return .init(id: session.id, kind: session.kind.rawValue, name: session.name, state: session.state.rawValue,
                             progress: "\(rated.values.reduce(0, +)) of \(total) answers", created: Self.day(session.createdAt))
            },
            hasSessions: !sessions.isEmpty, isLead: isLead, seesAll: seesAll,
            golden: golden.map { .init(id: $0.id, queue: $0.queue, answer: $0.answer, text: mask ? PersonalData.mask(text: $0.text) : $0.text,
                                       explanation: $0.explanation, source: $0.caseID.map { "case \($0)" } ?? "imported") },
            hasGolden: !golden.isEmpty,
            certifications: certifications.map { .init(user: $0.user, queue: $0.queue, score: String(format: "%.0f%%", $0.score * 100), granted: Self.day($0.grantedAt),
                                                       status: $0.isActive ? "active" : "revoked", active: $0.isActive) },
            hasCertifications: !certifications.isEmpty,
            mix: mix.isEmpty ? "No queue mixes golden items in (quality.yaml golden_mix)." : "Mixed into " + mix.joined(separator: ", ") + ".",
            checks: checkRows,
            hasChecks: (checks?.overall.checked ?? 0) > 0,
            queues: components.packs.pack.review.configuration.queueOrder, answers: quality.scale, models: models, hasModels: !models.isEmpty)
        return render("calibration", title: "Calibration and training", path: "/calibration", context, body: view)
    }

    struct SessionView {
        struct Option { var value: String; var selected: Bool }
        struct Answer { var rater: String; var answer: String; var comment: String?; var correct: Bool; var wrong: Bool }
        struct Item {
            var number: Int; var text: String; var source: String; var gold: String; var explanation: String?; var hasKey: Bool
            var canRate: Bool; var mine: String; var options: [Option]; var answers: [Answer]; var hasAnswers: Bool
        }
        struct RaterRow { var name: String; var rated: Int; var agreement: String; var interval: String; var kappa: String; var weak: String; var below: Bool }
        struct Contested { var item: String; var counts: String; var agreement: String; var consensus: String }
        struct Note { var by: String; var at: String; var item: String; var text: String; var article: String?; var articleLink: Bool }
        var id: Int64
        var name: String
        var kind: String
        var isTraining: Bool
        var state: String
        var open: Bool
        var summary: String
        var items: [Item]
        var hasReport: Bool
        var overall: String
        var raters: [RaterRow]
        var contested: [Contested]
        var hasContested: Bool
        var notes: [Note]
        var hasNotes: Bool
        var canNote: Bool
        var canClose: Bool
        var outcome: String
        var numbers: [Int]
        var csv: String
    }

    @Sendable func sessionPage(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context, needs: .casesRead)
        let scopes = user.role.scopes
        let id = try context.id()
        let quality = components.quality
        let session = try await QualityController.run { try await quality.session(id: id) }
        let me = context.actor.description
        let seesAll = Scope.qualityRead.isSatisfied(by: scopes), isLead = Scope.qualityWrite.isSatisfied(by: scopes)
        guard seesAll || session.raters.contains(me) else { throw Problem.notFound("there is no session \(id)") }
        let (visible, keyOf) = session.visible(to: me)
        let rates = session.state == .open && session.raters.contains(me) && Scope.casesReview.isSatisfied(by: scopes)
        let mask = context.masksPersonalData
        let items: [SessionView.Item] = session.items.map { item in
            let answers = visible.filter { $0.item == item.number }
            let mine = answers.first { $0.rater == me }?.answer
            // Training answers are final: an answered item is not offered again.
            let canRate = rates && !(session.kind == .training && mine != nil)
            let key = keyOf.contains(item.number) ? item.gold : nil
            return .init(number: item.number, text: mask ? PersonalData.mask(text: item.text) : item.text,
                         source: item.goldenID.map { "golden item \($0)" } ?? item.caseID.map { "case \($0)" } ?? "",
                         gold: key ?? "", explanation: keyOf.contains(item.number) ? item.explanation : nil, hasKey: key != nil,
                         canRate: canRate, mine: mine ?? "",
                         options: quality.scale.map { .init(value: $0, selected: $0 == mine) },
                         answers: answers.map { .init(rater: $0.rater, answer: $0.answer, comment: $0.notes, correct: key != nil && $0.answer == key,
                                                     wrong: key != nil && $0.answer != key) },
                         hasAnswers: !answers.isEmpty)
        }
        let answered = Set(session.ratings.filter { $0.rater == me }.map(\.item)).count
        var summary = "\(session.items.count) items, \(session.raters.count) raters (\(session.raters.joined(separator: ", "))); "
        if session.kind == .training {
            let score = session.score
            summary += session.state == .closed
                ? "\(score.right) of \(session.items.count) right: \(session.passed == true ? "passed, certified for \(session.queue ?? "")" : "not passed (the pass mark is \(String(format: "%.0f%%", (session.threshold ?? 0) * 100)))")."
                : "you have answered \(answered); \(score.right) right so far."
        } else {
            summary += session.state == .open ? "you have answered \(answered). Answers are hidden from each other until a lead closes the session."
                : "closed\(session.outcome.map { ": \($0)" } ?? ".")"
        }
        var view = SessionView(id: session.id, name: session.name, kind: session.kind.rawValue, isTraining: session.kind == .training,
                               state: session.state.rawValue, open: session.state == .open, summary: summary, items: items,
                               hasReport: false, overall: "", raters: [], contested: [], hasContested: false,
                               notes: session.discussion.map { .init(by: $0.by, at: Timestamp.formatRFC3339($0.at), item: $0.item.map { "item \($0)" } ?? "",
                                                                    text: $0.text, article: $0.article,
                                                                    articleLink: $0.article.map { components.packs.pack.articles[$0] != nil } ?? false) },
                               hasNotes: !session.discussion.isEmpty,
                               canNote: session.raters.contains(me) || isLead,
                               canClose: isLead && session.kind == .calibration && session.state == .open,
                               outcome: session.outcome ?? "", numbers: session.items.map(\.number),
                               csv: "/calibration/sessions/\(session.id)/ratings.csv")
        if session.kind == .calibration, session.state == .closed {
            let report = quality.report(session)
            func number(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "—" }
            let o = report.overall
            view.hasReport = true
            view.overall = "Agreement \(number(o.percentAgreement)) · Fleiss' kappa \(number(o.fleissKappa)) · Krippendorff's alpha \(number(o.krippendorffAlpha)) · Gwet's AC1 \(number(o.gwetAC1))"
            view.raters = report.perRater.map { rater in
                let weak = report.flags.filter { $0.rater == rater.name }.map { $0.category ?? "overall" }
                return .init(name: rater.name, rated: rater.rated, agreement: rater.agreement.accuracy.map { String(format: "%.1f%%", $0 * 100) } ?? "—",
                             interval: rater.agreement.interval.map { String(format: "%.1f–%.1f%%", $0.lower * 100, $0.upper * 100) } ?? "",
                             kappa: number(rater.kappa), weak: weak.joined(separator: ", "), below: !weak.isEmpty)
            }
            view.contested = report.contested.map { item in
                .init(item: "item \(item.item)", counts: zip(report.categories, item.counts).filter { $0.1 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: ", "),
                      agreement: String(format: "%.0f%%", item.agreement * 100), consensus: item.gold.map { "key: \($0)" } ?? item.consensus ?? "no majority")
            }
            view.hasContested = !view.contested.isEmpty
        }
        return render("calibration-session", title: session.name, path: "/calibration", context, body: view)
    }

    /// A session's ratings as CSV (item, rater, category, plus the key as rater `gold` once closed):
    /// the input `warden qa calibrate` reads.
    @Sendable func sessionRatingsCSV(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context, needs: .casesRead)
        let id = try context.id()
        let session = try await QualityController.run { try await components.quality.session(id: id) }
        let me = context.actor.description
        guard Scope.qualityRead.isSatisfied(by: user.role.scopes) || session.raters.contains(me) else { throw Problem.notFound("there is no session \(id)") }
        let (visible, keyOf) = session.visible(to: me)
        var rows = [["item", "rater", "category"]]
        for item in session.items where keyOf.contains(item.number) {
            if let gold = item.gold { rows.append([String(item.number), "gold", gold]) }
        }
        for rating in visible { rows.append([String(rating.item), rating.rater, rating.answer]) }
        return ConsolePage.csv(rows, filename: "warden-session-\(id).csv")
    }

    /// `POST /calibration/training`, `/sessions`, `/golden` and `/revoke`: the forms.
    @Sendable func calibrationAction(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let action = request.uri.path.split(separator: "/").last.map(String.init) ?? ""
        let quality = components.quality
        func ids(_ text: String?, _ label: String) throws -> [Int64] {
            try (text ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).map {
                guard let id = Int64($0), id > 0 else { throw ConsoleRefusal("\(label) are numbers separated by commas, not \($0.prefix(40))") }
                return id
            }
        }
        return try await Self.refusingQuality {
            switch action {
            case "training":
                let (_, form) = try await post(request, context, needs: .casesReview)
                let session = try await quality.startTraining(queue: try form.required("queue", label: "The queue", max: 200), actor: context.actor)
                return ConsolePage.redirect("/calibration/sessions/\(session.id)")
            case "sessions":
                let (_, form) = try await post(request, context, needs: .qualityWrite)
                let people = (form.text("raters") ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
                let session = try await quality.createCalibration(name: try form.required("name", label: "The session's name", max: 200), queue: form.text("queue"),
                                                                  caseIDs: try ids(form.text("cases"), "Case ids"),
                                                                  goldenIDs: try ids(form.text("golden"), "Golden item ids"), people: people,
                                                                  models: form.all("model"), actor: context.actor)
                ConsolePage.leaveNotice("Session \(session.id) is open: \(session.items.count) items for \(session.raters.count) raters.", for: context)
                return ConsolePage.redirect("/calibration/sessions/\(session.id)")
            case "golden":
                let (_, form) = try await post(request, context, needs: .qualityWrite)
                let explanation = try form.required("explanation", label: "The explanation", max: 10_000)
                let item: GoldenItem
                if let caseText = form.text("case") {
                    guard let caseID = Int64(caseText), caseID > 0 else { throw ConsoleRefusal("the case is a case number, not \(caseText.prefix(40))") }
                    item = try await quality.confirmGolden(caseID: caseID, answer: form.text("answer"), explanation: explanation, actor: context.actor)
                } else {
                    item = try await quality.importGolden(text: try form.required("text", label: "The content", max: 20_000),
                                                          queue: try form.required("queue", label: "The queue", max: 200),
                                                          answer: try form.required("answer", label: "The answer", max: 200), explanation: explanation, actor: context.actor)
                }
                ConsolePage.leaveNotice("Golden item \(item.id) added to \(item.queue) with the answer \(item.answer).", for: context)
                return ConsolePage.redirect("/calibration")
            case "revoke":
                let (_, form) = try await post(request, context, needs: .qualityWrite)
                let revoked = try await quality.revokeCertification(user: try form.required("user", label: "The person", max: 200),
                                                                    queue: try form.required("queue", label: "The queue", max: 200),
                                                                    reason: try form.required("reason", label: "The reason", max: 10_000), actor: context.actor)
                ConsolePage.leaveNotice("\(revoked.user)'s certification for \(revoked.queue) is revoked.", for: context)
                return ConsolePage.redirect("/calibration")
            default:
                throw Problem.notFound("there is no calibration action \(action.prefix(40))")
            }
        }
    }

    /// Runs a quality operation from a form: its refusals become the form's error (404 stays 404).
    static func refusingQuality<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as QualityError {
            if error.kind == .notFound { throw Problem.notFound(error.message) }
            throw ConsoleRefusal(error.message)
        }
    }

    @Sendable func goldenRetire(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        _ = try await post(request, context, needs: .qualityWrite)
        let id = try context.id()
        let item = try await QualityController.run { try await components.quality.retireGolden(id: id, actor: context.actor) }
        ConsolePage.leaveNotice("Golden item \(item.id) is retired: kept, no longer drawn for training.", for: context)
        return ConsolePage.redirect("/calibration")
    }

    @Sendable func sessionAction(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let id = try context.id()
        let action = context.path("action")
        let scope: Scope = action == "close" ? .qualityWrite : .casesReview
        let (user, form) = try await post(request, context, needs: scope)
        let command: SessionCommand
        switch action {
        case "rate":
            guard let item = form.text("item").flatMap(Int.init) else { throw ConsoleRefusal("which item is missing") }
            command = .rate(item: item, answer: try form.required("answer", label: "The answer", max: 200), notes: form.text("notes"))
        case "notes":
            command = .note(item: form.text("item").flatMap(Int.init), text: try form.required("text", label: "The note", max: 10_000), article: form.text("article"))
        case "close":
            command = .close(outcome: form.text("outcome"))
        default:
            throw Problem.notFound("there is no session action \(action.prefix(40))")
        }
        return try await Self.refusingQuality {
            let session = try await components.quality.command(sessionID: id, command, actor: context.actor,
                                                               isLead: Scope.qualityWrite.isSatisfied(by: user.role.scopes))
            if case .rate(let item, let answer, _) = command, session.kind == .training, let gold = session.items.first(where: { $0.number == item })?.gold {
                ConsolePage.leaveNotice(answer == gold ? "Item \(item): right." : "Item \(item): the answer is \(gold), not \(answer). See why below.", for: context)
            } else if case .close = command {
                ConsolePage.leaveNotice("Session \(id) is closed: every answer and the agreement report are shown.", for: context)
            }
            return ConsolePage.redirect("/calibration/sessions/\(id)\(action == "rate" ? "#item-\(form.text("item") ?? "")" : "")")
        }
    }
}
