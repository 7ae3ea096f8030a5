public import WardenCore

/// The answer a rater (or a golden item) gives an item: a taxonomy category, or ``SessionAnswer/none``
/// for no violation. Calibration, training and golden items all use this one scale, so a person, a
/// model and the key are compared on one footing.
public enum SessionAnswer {
    /// The answer "no violation".
    public static let none = "none"

    /// The answers allowed with a taxonomy's categories: `none` first, then the categories sorted.
    public static func scale(_ categories: Set<String>) -> [String] { [none] + categories.sorted() }

    /// The answer a decision (or a QA verdict) amounts to.
    public static func of(violation: Bool, category: String?) -> String { violation ? (category ?? none) : none }
}

/// A golden item: content with its right answer and the reason, confirmed by a lead from a past
/// decision or imported. Golden items are the key of calibration sessions and the material of
/// training; a retired one is kept (sessions refer to it) but no longer drawn.
public struct GoldenItem: Sendable, Equatable {
    public var id: Int64
    /// The case it was confirmed from, if any.
    public var caseID: Int64?
    /// The queue it trains and certifies for.
    public var queue: String
    /// What a rater sees (the case's content when it was confirmed).
    public var text: String
    public var answer: String
    public var explanation: String
    public var createdBy: String
    public var createdAt: Int64
    public var retiredAt: Int64?

    public init(id: Int64, caseID: Int64?, queue: String, text: String, answer: String, explanation: String, createdBy: String, createdAt: Int64,
                retiredAt: Int64? = nil) {
        self.id = id
        self.caseID = caseID
        self.queue = queue
        self.text = text
        self.answer = answer
        self.explanation = explanation
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.retiredAt = retiredAt
    }
}

/// What a session is for.
public enum SessionKind: String, Sendable, Codable, CaseIterable {
    /// Many raters (people and models) rate the same items; agreement and each rater against the
    /// key or the consensus, then a discussion.
    case calibration
    /// One person works a queue's golden items in a sandbox, with the answer and its reason after
    /// each; passing the queue's threshold certifies them for it.
    case training
}

public enum SessionState: String, Sendable, Codable, CaseIterable {
    /// Raters are rating; nobody sees anyone else's answers (a trainee sees the key of what they rated).
    case open
    /// Ratings are final and revealed; the discussion goes on.
    case closed
}

/// One item of a session: its content (kept when the session was made), where it came from, and the
/// key when it has one.
public struct SessionItem: Sendable, Equatable, Codable {
    /// 1-based position in the session.
    public var number: Int
    public var caseID: Int64?
    public var goldenID: Int64?
    public var text: String
    public var gold: String?
    public var explanation: String?

    public init(number: Int, caseID: Int64?, goldenID: Int64?, text: String, gold: String?, explanation: String?) {
        self.number = number
        self.caseID = caseID
        self.goldenID = goldenID
        self.text = text
        self.gold = gold
        self.explanation = explanation
    }
}

public struct SessionRating: Sendable, Equatable {
    public var item: Int
    public var rater: String
    public var answer: String
    public var notes: String?
    public var at: Int64

    public init(item: Int, rater: String, answer: String, notes: String?, at: Int64) {
        self.item = item
        self.rater = rater
        self.answer = answer
        self.notes = notes
        self.at = at
    }
}

/// One entry of a session's discussion record; `article` names the knowledge article the
/// discussion changed or asks to change.
public struct DiscussionEntry: Sendable, Equatable {
    public var id: Int64
    public var by: String
    public var at: Int64
    public var item: Int?
    public var text: String
    public var article: String?

    public init(id: Int64, by: String, at: Int64, item: Int?, text: String, article: String?) {
        self.id = id
        self.by = by
        self.at = at
        self.item = item
        self.text = text
        self.article = article
    }
}

/// A certification: a person passed a queue's training (or it was revoked).
public struct Certification: Sendable, Equatable {
    public var user: String
    public var queue: String
    public var sessionID: Int64
    public var score: Double
    public var grantedAt: Int64
    public var revokedAt: Int64?
    public var revokedBy: String?
    public var revokeReason: String?

    public init(user: String, queue: String, sessionID: Int64, score: Double, grantedAt: Int64, revokedAt: Int64? = nil, revokedBy: String? = nil,
                revokeReason: String? = nil) {
        self.user = user
        self.queue = queue
        self.sessionID = sessionID
        self.score = score
        self.grantedAt = grantedAt
        self.revokedAt = revokedAt
        self.revokedBy = revokedBy
        self.revokeReason = revokeReason
    }

    public var isActive: Bool { revokedAt == nil }
}

/// A calibration session or a training run, with every rating and the discussion.
public struct CalibrationSession: Sendable, Equatable {
    public var id: Int64
    public var kind: SessionKind
    public var name: String
    public var queue: String?
    /// Who rates: people (`user:ana`) and models (`model:sms-spam`, rated when the session is made).
    public var raters: [String]
    public var items: [SessionItem]
    public var state: SessionState
    /// Training: the share of right answers that certifies.
    public var threshold: Double?
    public var createdBy: String
    public var createdAt: Int64
    public var closedAt: Int64?
    /// What the session concluded (set when a lead closes it).
    public var outcome: String?
    public var ratings: [SessionRating]
    public var discussion: [DiscussionEntry]

    public init(id: Int64, kind: SessionKind, name: String, queue: String?, raters: [String], items: [SessionItem], threshold: Double?,
                createdBy: String, createdAt: Int64) {
        self.id = id
        self.kind = kind
        self.name = name
        self.queue = queue
        self.raters = raters
        self.items = items
        self.state = .open
        self.threshold = threshold
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.ratings = []
        self.discussion = []
    }

    /// The most items and raters a session holds (every rating of a session is loaded at once).
    public static let maximumItems = 200
    public static let maximumRaters = 50

    public func rating(item: Int, by rater: String) -> SessionRating? {
        ratings.last { $0.item == item && $0.rater == rater }
    }

    /// Whether `rater` has rated every item.
    public func isDone(_ rater: String) -> Bool {
        Set(ratings.lazy.filter { $0.rater == rater }.map(\.item)).count == items.count
    }

    /// Training: right answers over items rated so far.
    public var score: (right: Int, rated: Int) {
        guard kind == .training, let trainee = raters.first else { return (0, 0) }
        var right = 0, rated = 0
        for item in items {
            guard let given = rating(item: item.number, by: trainee) else { continue }
            rated += 1
            if given.answer == item.gold { right += 1 }
        }
        return (right, rated)
    }

    /// Training: whether the trainee passed (nil while open).
    public var passed: Bool? {
        guard kind == .training, state == .closed, let threshold, !items.isEmpty else { return nil }
        return Double(score.right) / Double(items.count) >= threshold
    }

    /// What `actor` may see while the session is open: their own ratings (and, training, the key of
    /// what they rated). Once closed, everything. A lead who is not a rater sees who has rated how
    /// many, never the answers, until it closes.
    public func visible(to actor: String) -> (ratings: [SessionRating], keyOf: Set<Int>) {
        if state == .closed { return (ratings, Set(items.map(\.number))) }
        let own = ratings.filter { $0.rater == actor }
        return (own, kind == .training ? Set(own.map(\.item)) : [])
    }

    /// The agreement report (closed sessions; or a lead's look at an open one): people and models as
    /// raters, the golden answers as the key.
    public func report(confidence: Double = 0.95, target: Double? = nil, scale: [String]) -> CalibrationReport {
        let ratings = ratings.map { Rating(item: String($0.item), rater: $0.rater, category: $0.answer) }
        let gold = Dictionary(items.compactMap { item in item.gold.map { (String(item.number), $0) } }, uniquingKeysWith: { first, _ in first })
        return CalibrationReport(ratings: ratings, gold: gold, categories: scale, confidence: confidence, target: target, contestedLimit: 10)
    }
}

/// What can be done to a session.
public enum SessionCommand: Sendable, Equatable {
    case rate(item: Int, answer: String, notes: String?)
    case note(item: Int?, text: String, article: String?)
    case close(outcome: String?)
}

/// The rules of sessions, pure: who rates what and when, blind until closed, training final per
/// item and closed (and scored) by its last rating.
public enum SessionPlanner {
    /// Applies `command`; returns the session, its audit entry and, when a training run passes,
    /// the certification it earns.
    public static func apply(_ command: SessionCommand, to session: CalibrationSession, actor: ActorRef, isLead: Bool, scale: Set<String>,
                             nextNoteID: Int64, now: Int64) throws(QualityError) -> (CalibrationSession, AuditDraft, Certification?) {
        var session = session
        let who = actor.description
        let target = "session:\(session.id)"
        switch command {
        case .rate(let number, let answer, let notes):
            guard session.state == .open else { throw QualityError(.conflict, "session \(session.id) is closed; its ratings are final") }
            guard session.raters.contains(who) else {
                throw QualityError(.forbidden, "\(who) is not a rater of session \(session.id)")
            }
            guard session.items.indices.contains(number - 1) else {
                throw QualityError(.invalid, "session \(session.id) has items 1 to \(session.items.count), not \(number)")
            }
            guard scale.contains(answer) else {
                throw QualityError(.invalid, "answer \(answer) is not none or a category of the pack's taxonomy (\(scale.sorted().joined(separator: ", ")))")
            }
            if session.kind == .training, session.rating(item: number, by: who) != nil {
                throw QualityError(.conflict, "item \(number) of training \(session.id) is already answered; a training answer is final")
            }
            session.ratings.removeAll { $0.item == number && $0.rater == who }
            session.ratings.append(SessionRating(item: number, rater: who, answer: answer, notes: notes, at: now))
            var certification: Certification?
            var closed = false
            if session.kind == .training, session.isDone(who) {
                session.state = .closed
                session.closedAt = now
                closed = true
                if session.passed == true, let queue = session.queue {
                    certification = Certification(user: who, queue: queue, sessionID: session.id,
                                                  score: Double(session.score.right) / Double(session.items.count), grantedAt: now)
                }
            }
            let score = session.score
            return (session, AuditDraft(at: now, actor: actor, action: closed ? "training.finish" : "session.rate", target: target, detail: JSONWriter.object {
                $0.field("item", Int64(number))
                $0.field("answer", answer)
                if closed {
                    $0.field("right", Int64(score.right))
                    $0.field("of", Int64(session.items.count))
                    $0.key("passed"); $0.bool(session.passed == true)
                }
            }), certification)
        case .note(let number, let text, let article):
            guard session.raters.contains(who) || isLead || session.createdBy == who else {
                throw QualityError(.forbidden, "the discussion of session \(session.id) is for its raters and leads")
            }
            if let number, !session.items.indices.contains(number - 1) {
                throw QualityError(.invalid, "session \(session.id) has items 1 to \(session.items.count), not \(number)")
            }
            session.discussion.append(DiscussionEntry(id: nextNoteID, by: who, at: now, item: number, text: text, article: article))
            return (session, AuditDraft(at: now, actor: actor, action: "session.note", target: target, detail: JSONWriter.object {
                if let number { $0.field("item", Int64(number)) }
                if let article { $0.field("article", article) }
            }), nil)
        case .close(let outcome):
            guard isLead else { throw QualityError(.forbidden, "a lead closes a calibration session") }
            guard session.kind == .calibration else {
                throw QualityError(.conflict, "training \(session.id) closes by itself when its last item is answered")
            }
            guard session.state == .open else { throw QualityError(.conflict, "session \(session.id) is already closed") }
            session.state = .closed
            session.closedAt = now
            session.outcome = outcome
            return (session, AuditDraft(at: now, actor: actor, action: "session.close", target: target, detail: JSONWriter.object {
                $0.field("ratings", Int64(session.ratings.count))
                if let outcome { $0.field("outcome", outcome) }
            }), nil)
        }
    }

    /// A calibration session over `items` (with their keys), rated by `people` and by models whose
    /// answers are already worked out. Refuses what would not make a session.
    public static func calibration(id: Int64, name: String, queue: String?, items: [SessionItem], people: [String],
                                   models: [String: [String]], actor: ActorRef, now: Int64) throws(QualityError) -> (CalibrationSession, AuditDraft) {
        guard !items.isEmpty else { throw QualityError(.invalid, "a calibration session needs at least one item") }
        guard items.count <= CalibrationSession.maximumItems else {
            throw QualityError(.invalid, "a session holds at most \(CalibrationSession.maximumItems) items, not \(items.count)")
        }
        let raters = people + models.keys.sorted().map { "model:\($0)" }
        guard raters.count >= 2 else { throw QualityError(.invalid, "a calibration session needs at least two raters (people or models)") }
        guard raters.count <= CalibrationSession.maximumRaters else {
            throw QualityError(.invalid, "a session has at most \(CalibrationSession.maximumRaters) raters, not \(raters.count)")
        }
        guard Set(raters).count == raters.count else { throw QualityError(.invalid, "a rater is named twice") }
        var session = CalibrationSession(id: id, kind: .calibration, name: name, queue: queue, raters: raters, items: items, threshold: nil,
                                         createdBy: actor.description, createdAt: now)
        for (model, answers) in models.sorted(by: { $0.key < $1.key }) {
            for (item, answer) in zip(items, answers) {
                session.ratings.append(SessionRating(item: item.number, rater: "model:\(model)", answer: answer, notes: nil, at: now))
            }
        }
        return (session, AuditDraft(at: now, actor: actor, action: "session.create", target: "session:\(id)", detail: JSONWriter.object {
            $0.field("kind", "calibration")
            $0.field("items", Int64(items.count))
            $0.key("raters"); $0.beginArray(); for rater in raters { $0.string(rater) }; $0.endArray()
        }))
    }

    /// A training run for `actor` on `queue`: `count` of the queue's live golden items, drawn
    /// uniformly from `seed`.
    public static func training(id: Int64, queue: String, golden: [GoldenItem], count: Int, threshold: Double, seed: UInt64, actor: ActorRef,
                                now: Int64) throws(QualityError) -> (CalibrationSession, AuditDraft) {
        let live = golden.filter { $0.queue == queue && $0.retiredAt == nil }.sorted { $0.id < $1.id }
        guard live.count >= count else {
            throw QualityError(.invalid, "queue \(queue) has \(live.count) golden items; its training needs \(count): a lead confirms more first")
        }
        var pool = live
        var generator = SplitMix64(seed: seed)
        for index in 0..<count {
            let pick = index + Int(generator.next() % UInt64(pool.count - index))
            pool.swapAt(index, pick)
        }
        let items = pool.prefix(count).enumerated().map { offset, golden in
            SessionItem(number: offset + 1, caseID: nil, goldenID: golden.id, text: golden.text, gold: golden.answer, explanation: golden.explanation)
        }
        let session = CalibrationSession(id: id, kind: .training, name: "Training for \(queue)", queue: queue, raters: [actor.description],
                                         items: items, threshold: threshold, createdBy: actor.description, createdAt: now)
        return (session, AuditDraft(at: now, actor: actor, action: "training.start", target: "session:\(id)", detail: JSONWriter.object {
            $0.field("queue", queue)
            $0.field("items", Int64(count))
        }))
    }
}
