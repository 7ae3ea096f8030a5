public import WardenCore
public import WardenQuality
public import WardenStore
import WardenRules

/// Golden items, calibration sessions, training and certification over the live store.
extension QualityService {
    /// What a rating or a golden answer may be: `none`, or a category of the pack's taxonomy.
    public var scale: [String] { SessionAnswer.scale(categories) }

    /// The certification rules of the pack, by queue.
    public var certificationRules: [String: QualityPack.CertificationRule] { pack().quality.certification }

    /// The most golden items a queue's training draws from (and the console lists).
    public static let maximumGoldenPerQueue = 10_000

    func checkAnswer(_ answer: String) throws(QualityError) {
        guard scale.contains(answer) else {
            throw QualityError(.invalid, "answer \(answer) is not none or a category of the pack's taxonomy (\(scale.joined(separator: ", ")))")
        }
    }

    func checkQueue(_ queue: String) throws(QualityError) {
        let queues = pack().queues
        guard queues.contains(queue) else { throw QualityError(.invalid, "there is no queue \(queue); queues: \(queues.joined(separator: ", "))") }
    }

    // MARK: Golden items

    /// A past case a lead confirms as golden: its content as it is now, its queue, and the answer
    /// given (by default, what its latest decision said).
    public func confirmGolden(caseID: Int64, answer: String?, explanation: String, actor: ActorRef) async throws -> GoldenItem {
        guard let content = try await store.caseContent(caseID: caseID) else { throw QualityError(.notFound, "there is no case \(caseID)") }
        guard let answer = answer ?? content.decided else {
            throw QualityError(.invalid, "case \(caseID) has no decision to confirm: give the answer (none or a category)")
        }
        try checkAnswer(answer)
        guard !content.text.isEmpty else { throw QualityError(.invalid, "case \(caseID) has no content to rate") }
        return try await store.addGoldenItem(GoldenItem(id: 0, caseID: caseID, queue: content.queue, text: content.text, answer: answer,
                                                        explanation: explanation, createdBy: actor.description, createdAt: clock.nowMillis()),
                                             actor: actor)
    }

    /// An imported golden item: content with its answer, for a queue.
    public func importGolden(text: String, queue: String, answer: String, explanation: String, actor: ActorRef) async throws -> GoldenItem {
        try checkQueue(queue)
        try checkAnswer(answer)
        return try await store.addGoldenItem(GoldenItem(id: 0, caseID: nil, queue: queue, text: text, answer: answer, explanation: explanation,
                                                        createdBy: actor.description, createdAt: clock.nowMillis()),
                                             actor: actor)
    }

    public func goldenItem(id: Int64) async throws -> GoldenItem {
        guard let item = try await store.goldenItem(id: id) else { throw QualityError(.notFound, "there is no golden item \(id)") }
        return item
    }

    public func retireGolden(id: Int64, actor: ActorRef) async throws -> GoldenItem {
        try await store.retireGoldenItem(id: id, actor: actor, now: clock.nowMillis())
    }

    // MARK: Sessions

    /// A calibration session: the given cases (their content now) and golden items (with their
    /// key), rated by `people` (user names) and by the pack's built-in models named in `models`,
    /// whose answers are worked out now: the top taxonomy category scoring 0.5 or more, else none.
    public func createCalibration(name: String, queue: String?, caseIDs: [Int64], goldenIDs: [Int64], people: [String], models: [String],
                                  actor: ActorRef) async throws -> CalibrationSession {
        if let queue { try checkQueue(queue) }
        let users = Set(try await store.users().filter { $0.disabledAt == nil }.map(\.name))
        var raters: [String] = []
        for person in people {
            let name = person.hasPrefix("user:") ? String(person.dropFirst(5)) : person
            guard users.contains(name) else { throw QualityError(.invalid, "there is no active user \(name) to rate") }
            raters.append(ActorRef(.user, name).description)
        }
        let available = scorers()
        for model in models where available[model] == nil {
            throw QualityError(.invalid, "there is no ready built-in model \(model); models: \(available.keys.sorted().joined(separator: ", "))")
        }
        var items: [SessionItem] = []
        for caseID in caseIDs {
            guard let content = try await store.caseContent(caseID: caseID) else { throw QualityError(.notFound, "there is no case \(caseID)") }
            guard !content.text.isEmpty else { throw QualityError(.invalid, "case \(caseID) has no content to rate") }
            items.append(SessionItem(number: items.count + 1, caseID: caseID, goldenID: nil, text: content.text, gold: nil, explanation: nil))
        }
        for goldenID in goldenIDs {
            let golden = try await goldenItem(id: goldenID)
            items.append(SessionItem(number: items.count + 1, caseID: golden.caseID, goldenID: golden.id, text: golden.text, gold: golden.answer,
                                     explanation: golden.explanation))
        }
        let scale = Set(self.scale)
        var answers: [String: [String]] = [:]
        for model in models {
            let scorer = available[model]!
            answers[model] = items.map { Self.answer(of: scorer, on: $0.text, scale: scale) }
        }
        let now = clock.nowMillis()
        let (people, built, modelAnswers) = (raters, items, answers)
        let madeBy = actor
        return try await store.createSession { id in
            try SessionPlanner.calibration(id: id, name: name, queue: queue, items: built, people: people, models: modelAnswers, actor: madeBy, now: now)
        }
    }

    /// Starts (or resumes) `actor`'s training on `queue`: the queue's certification rule says how
    /// many golden items and the pass mark.
    public func startTraining(queue: String, actor: ActorRef) async throws -> CalibrationSession {
        try checkQueue(queue)
        guard let rule = certificationRules[queue] else {
            throw QualityError(.invalid, "queue \(queue) has no training: quality.yaml's certification names \(certificationRules.keys.sorted().joined(separator: ", "))")
        }
        for (session, _) in try await store.sessions(kind: .training, rater: actor.description, before: nil, limit: 100)
        where session.queue == queue && session.state == .open {
            return try await self.session(id: session.id)
        }
        let golden = try await store.goldenItems(queue: queue, retired: false, after: nil, limit: Self.maximumGoldenPerQueue)
        let now = clock.nowMillis()
        return try await store.createSession { id in
            try SessionPlanner.training(id: id, queue: queue, golden: golden, count: rule.items, threshold: rule.threshold,
                                        seed: UInt64(bitPattern: now) ^ UInt64(id), actor: actor, now: now)
        }
    }

    public func session(id: Int64) async throws -> CalibrationSession {
        guard let session = try await store.session(id: id) else { throw QualityError(.notFound, "there is no session \(id)") }
        return session
    }

    public func command(sessionID: Int64, _ command: SessionCommand, actor: ActorRef, isLead: Bool) async throws -> CalibrationSession {
        try await store.commandSession(id: sessionID, command, actor: actor, isLead: isLead, scale: Set(scale), now: clock.nowMillis())
    }

    /// A session's agreement report, against the pack's target.
    public func report(_ session: CalibrationSession, confidence: Double = 0.95) -> CalibrationReport {
        session.report(confidence: confidence, target: targetAccuracy, scale: scale)
    }

    public func revokeCertification(user: String, queue: String, reason: String, actor: ActorRef) async throws -> Certification {
        let name = user.hasPrefix("user:") ? user : ActorRef(.user, user).description
        return try await store.revokeCertification(user: name, queue: queue, reason: reason, actor: actor, now: clock.nowMillis())
    }
}

// MARK: Models as raters

extension QualityService {
    /// A model's answer on content, on the sessions' scale: its top-scoring category of the
    /// taxonomy at 0.5 or above (ties by name), else `none`.
    static func answer(of scorer: any TextScorer, on text: String, scale: Set<String>) -> String {
        var best: (category: String, score: Double)?
        for (category, score) in scorer.scores(of: text) where score >= 0.5 && category != SessionAnswer.none && scale.contains(category) {
            if let current = best, current.score > score || (current.score == score && current.category < category) { continue }
            best = (category, score)
        }
        return best?.category ?? SessionAnswer.none
    }

    /// Every ready built-in model's answer on a case's content (`model:NAME` → answer); none without content.
    func modelAnswers(caseID: Int64) async throws -> [String: String] {
        let available = scorers()
        guard !available.isEmpty, let content = try await store.caseContent(caseID: caseID), !content.text.isEmpty else { return [:] }
        let scale = Set(self.scale)
        return Dictionary(uniqueKeysWithValues: available.map { ("model:\($0.key)", Self.answer(of: $0.value, on: content.text, scale: scale)) })
    }
}

// MARK: Golden items mixed into live queues

extension QualityService {
    /// The share of claims per queue that get a golden item (quality.yaml's `golden_mix`).
    public var goldenMix: [String: Double] { pack().quality.goldenMix }

    /// Accuracy on golden items mixed into live queues and decided over the last `days` days, per
    /// reviewer, team and queue, flagged against the pack's target accuracy.
    public func goldenChecks(days: Int, confidence: Double = 0.95) async throws -> GoldenCheckReport {
        precondition((1...Self.maximumDays).contains(days), "a report covers 1 to \(Self.maximumDays) days")
        let (from, to) = Self.window(days: days, now: clock.nowMillis())
        return GoldenCheckReport(try await store.goldenChecks(from: from, to: to), from: from, to: to, teams: try await teams(),
                                 target: targetAccuracy, confidence: confidence)
    }
}
