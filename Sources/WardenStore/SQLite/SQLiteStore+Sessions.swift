import Foundation
import GRDB
public import WardenCore
public import WardenQuality

extension SQLiteStore: SessionStore {
    public func caseContent(caseID: Int64) async throws -> CaseContent? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT queue FROM review_case WHERE id = ?", arguments: [caseID]) else { return nil }
            let bodies = try String.fetchAll(db, sql: """
                SELECT DISTINCT e.body FROM case_item i LEFT JOIN signal s ON i.kind = 'signal' AND s.id = i.ref
                JOIN event e ON e.seq = CASE i.kind WHEN 'signal' THEN s.event_seq ELSE i.ref END
                WHERE i.case_id = ? ORDER BY e.seq LIMIT 20
                """, arguments: [caseID])
            let decided = try Row.fetchOne(db, sql: "SELECT violation, category FROM decision WHERE case_id = ? ORDER BY id DESC LIMIT 1", arguments: [caseID])
                .map { SessionAnswer.of(violation: $0[0], category: $0[1]) }
            return CaseContent(caseID: caseID, queue: row[0], text: CaseContent.text(ofBodies: bodies), decided: decided)
        }
    }

    // MARK: Golden items

    public func addGoldenItem(_ item: GoldenItem, actor: ActorRef) async throws -> GoldenItem {
        try await pool.write { db in
            var item = item
            item.id = try Self.nextID(db, "golden_item")
            try db.execute(sql: """
                INSERT INTO golden_item (id, case_id, queue, text, answer, explanation, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [item.id, item.caseID, item.queue, item.text, item.answer, item.explanation, item.createdBy, item.createdAt])
            let detail = JSONWriter.object {
                $0.field("queue", item.queue)
                $0.field("answer", item.answer)
                if let caseID = item.caseID { $0.field("case", caseID) }
            }
            try Self.appendAudit(db, at: item.createdAt, actor: actor.description, action: "golden.add", target: "golden:\(item.id)", detail: detail)
            return item
        }
    }

    public func goldenItem(id: Int64) async throws -> GoldenItem? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM golden_item WHERE id = ?", arguments: [id]).map(Self.goldenItem(row:)) }
    }

    public func goldenItems(queue: String?, retired: Bool, after: Int64?, limit: Int) async throws -> [GoldenItem] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM golden_item WHERE id > ? AND (? IS NULL OR queue = ?) AND (? OR retired_at IS NULL) ORDER BY id LIMIT ?
                """, arguments: [after ?? 0, queue, queue, retired, limit]).map(Self.goldenItem(row:))
        }
    }

    public func goldenCount(queue: String) async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM golden_item WHERE queue = ? AND retired_at IS NULL", arguments: [queue]) ?? 0
        }
    }

    public func retireGoldenItem(id: Int64, actor: ActorRef, now: Int64) async throws -> GoldenItem {
        try await pool.write { db in
            guard var item = try Row.fetchOne(db, sql: "SELECT * FROM golden_item WHERE id = ?", arguments: [id]).map(Self.goldenItem(row:)) else {
                throw QualityError(.notFound, "there is no golden item \(id)")
            }
            guard item.retiredAt == nil else { throw QualityError(.conflict, "golden item \(id) is already retired") }
            item.retiredAt = now
            try db.execute(sql: "UPDATE golden_item SET retired_at = ? WHERE id = ?", arguments: [now, id])
            try Self.appendAudit(db, at: now, actor: actor.description, action: "golden.retire", target: "golden:\(id)", detail: "{}")
            return item
        }
    }

    static func goldenItem(row: Row) -> GoldenItem {
        GoldenItem(id: row["id"], caseID: row["case_id"], queue: row["queue"], text: row["text"], answer: row["answer"], explanation: row["explanation"],
                   createdBy: row["created_by"], createdAt: row["created_at"], retiredAt: row["retired_at"])
    }

    // MARK: Sessions

    public func createSession(_ make: @Sendable (Int64) throws -> (CalibrationSession, AuditDraft)) async throws -> CalibrationSession {
        try await pool.write { db in
            let (session, entry) = try make(try Self.nextID(db, "qa_session"))
            try db.execute(sql: """
                INSERT INTO qa_session (id, kind, name, queue, raters, items, state, threshold, created_by, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [session.id, session.kind.rawValue, session.name, session.queue, try Self.encodeJSON(session.raters),
                                 try Self.encodeJSON(session.items), session.state.rawValue, session.threshold, session.createdBy, session.createdAt])
            for rater in session.raters {
                try db.execute(sql: "INSERT INTO qa_session_rater (session_id, rater) VALUES (?, ?)", arguments: [session.id, rater])
            }
            for rating in session.ratings { try Self.saveRating(db, session: session.id, rating) }
            try Self.appendAudit(db, at: entry.at, actor: entry.actor.description, action: entry.action, target: entry.target, detail: entry.detail)
            return session
        }
    }

    public func sessions(kind: SessionKind?, rater: String?, before: Int64?, limit: Int) async throws -> [(session: CalibrationSession, rated: [String: Int])] {
        try await pool.read { db in
            let rows = if let rater {
                try Row.fetchAll(db, sql: """
                    SELECT s.* FROM qa_session_rater r JOIN qa_session s ON s.id = r.session_id
                    WHERE r.rater = ? AND r.session_id < ? AND (? IS NULL OR s.kind = ?) ORDER BY r.session_id DESC LIMIT ?
                    """, arguments: [rater, before ?? Int64.max, kind?.rawValue, kind?.rawValue, limit])
            } else {
                try Row.fetchAll(db, sql: "SELECT * FROM qa_session WHERE id < ? AND (? IS NULL OR kind = ?) ORDER BY id DESC LIMIT ?",
                                 arguments: [before ?? Int64.max, kind?.rawValue, kind?.rawValue, limit])
            }
            return try rows.map { row in
                let session = try Self.session(row: row)
                var rated: [String: Int] = [:]
                for count in try Row.fetchAll(db, sql: "SELECT rater, count(*) FROM qa_session_rating WHERE session_id = ? GROUP BY rater", arguments: [session.id]) {
                    rated[count[0]] = count[1]
                }
                return (session, rated)
            }
        }
    }

    public func session(id: Int64) async throws -> CalibrationSession? {
        try await pool.read { db in try Self.loadSession(db, id) }
    }

    public func commandSession(id: Int64, _ command: SessionCommand, actor: ActorRef, isLead: Bool, scale: Set<String>, now: Int64) async throws -> CalibrationSession {
        try await pool.write { db in
            guard let session = try Self.loadSession(db, id) else { throw QualityError(.notFound, "there is no session \(id)") }
            let (changed, entry, certification) = try SessionPlanner.apply(command, to: session, actor: actor, isLead: isLead, scale: scale,
                                                                          nextNoteID: try Self.nextID(db, "qa_session_note"), now: now)
            switch command {
            case .rate(let item, _, _):
                if let rating = changed.rating(item: item, by: actor.description) { try Self.saveRating(db, session: id, rating) }
            case .note:
                if let note = changed.discussion.last {
                    try db.execute(sql: "INSERT INTO qa_session_note (id, session_id, by, at, item, text, article) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                   arguments: [note.id, id, note.by, note.at, note.item, note.text, note.article])
                }
            case .close: break
            }
            try db.execute(sql: "UPDATE qa_session SET state = ?, closed_at = ?, outcome = ? WHERE id = ?",
                           arguments: [changed.state.rawValue, changed.closedAt, changed.outcome, id])
            if let certification {
                try db.execute(sql: """
                    INSERT OR REPLACE INTO certification (user, queue, session_id, score, granted_at) VALUES (?, ?, ?, ?, ?)
                    """, arguments: [certification.user, certification.queue, certification.sessionID, certification.score, certification.grantedAt])
            }
            try Self.appendAudit(db, at: entry.at, actor: entry.actor.description, action: entry.action, target: entry.target, detail: entry.detail)
            if let certification {
                try Self.appendAudit(db, at: now, actor: actor.description, action: "certification.grant", target: "certification:\(certification.queue)",
                                     detail: JSONWriter.object {
                                         $0.field("user", certification.user)
                                         $0.field("session", id)
                                         $0.key("score"); $0.number(certification.score)
                                     })
            }
            return changed
        }
    }

    static func saveRating(_ db: Database, session: Int64, _ rating: SessionRating) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO qa_session_rating (session_id, item, rater, answer, notes, at) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [session, rating.item, rating.rater, rating.answer, rating.notes, rating.at])
    }

    static func session(row: Row) throws -> CalibrationSession {
        var session = CalibrationSession(id: row["id"], kind: try row.decode(SessionKind.self, "kind", table: "qa_session"), name: row["name"],
                                         queue: row["queue"], raters: try decode([String].self, row["raters"]),
                                         items: try decode([SessionItem].self, row["items"]), threshold: row["threshold"],
                                         createdBy: row["created_by"], createdAt: row["created_at"])
        session.state = try row.decode(SessionState.self, "state", table: "qa_session")
        session.closedAt = row["closed_at"]
        session.outcome = row["outcome"]
        return session
    }

    static func loadSession(_ db: Database, _ id: Int64) throws -> CalibrationSession? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM qa_session WHERE id = ?", arguments: [id]) else { return nil }
        var session = try session(row: row)
        session.ratings = try Row.fetchAll(db, sql: "SELECT item, rater, answer, notes, at FROM qa_session_rating WHERE session_id = ? ORDER BY at, item, rater",
                                           arguments: [id])
            .map { SessionRating(item: $0[0], rater: $0[1], answer: $0[2], notes: $0[3], at: $0[4]) }
        session.discussion = try Row.fetchAll(db, sql: "SELECT * FROM qa_session_note WHERE session_id = ? ORDER BY id", arguments: [id])
            .map { DiscussionEntry(id: $0["id"], by: $0["by"], at: $0["at"], item: $0["item"], text: $0["text"], article: $0["article"]) }
        return session
    }

    // MARK: Certifications

    public func isCertified(user: String, queue: String) async throws -> Bool {
        try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM certification WHERE user = ? AND queue = ? AND revoked_at IS NULL)",
                              arguments: [user, queue]) ?? false
        }
    }

    public func certifications(user: String?, queue: String?) async throws -> [Certification] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM certification WHERE (? IS NULL OR user = ?) AND (? IS NULL OR queue = ?) ORDER BY queue, user",
                             arguments: [user, user, queue, queue]).map(Self.certification(row:))
        }
    }

    public func revokeCertification(user: String, queue: String, reason: String, actor: ActorRef, now: Int64) async throws -> Certification {
        try await pool.write { db in
            guard var certification = try Row.fetchOne(db, sql: "SELECT * FROM certification WHERE user = ? AND queue = ?", arguments: [user, queue])
                .map(Self.certification(row:)) else {
                throw QualityError(.notFound, "\(user) holds no certification for queue \(queue)")
            }
            guard certification.isActive else { throw QualityError(.conflict, "\(user)'s certification for queue \(queue) is already revoked") }
            certification.revokedAt = now
            certification.revokedBy = actor.description
            certification.revokeReason = reason
            try db.execute(sql: "UPDATE certification SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE user = ? AND queue = ?",
                           arguments: [now, actor.description, reason, user, queue])
            try Self.appendAudit(db, at: now, actor: actor.description, action: "certification.revoke", target: "certification:\(queue)",
                                 detail: JSONWriter.object {
                                     $0.field("user", user)
                                     $0.field("reason", reason)
                                 })
            return certification
        }
    }

    static func certification(row: Row) -> Certification {
        Certification(user: row["user"], queue: row["queue"], sessionID: row["session_id"], score: row["score"], grantedAt: row["granted_at"],
                      revokedAt: row["revoked_at"], revokedBy: row["revoked_by"], revokeReason: row["revoke_reason"])
    }
}

extension SQLiteStore: ArticleStore {
    public func acknowledge(article: String, version: String, user: ActorRef, now: Int64) async throws -> ArticleAcknowledgement {
        try await pool.write { db in
            if let at = try Int64.fetchOne(db, sql: "SELECT at FROM article_ack WHERE article = ? AND version = ? AND user = ?",
                                           arguments: [article, version, user.description]) {
                return ArticleAcknowledgement(article: article, version: version, user: user.description, at: at)
            }
            try db.execute(sql: "INSERT INTO article_ack (article, version, user, at) VALUES (?, ?, ?, ?)", arguments: [article, version, user.description, now])
            try Self.appendAudit(db, at: now, actor: user.description, action: "article.acknowledge", target: "article:\(article)",
                                 detail: JSONWriter.object { $0.field("version", version) })
            return ArticleAcknowledgement(article: article, version: version, user: user.description, at: now)
        }
    }

    public func acknowledgements(article: String?, user: String?) async throws -> [ArticleAcknowledgement] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM article_ack WHERE (? IS NULL OR article = ?) AND (? IS NULL OR user = ?) ORDER BY article, at, user",
                             arguments: [article, article, user, user])
                .map { ArticleAcknowledgement(article: $0["article"], version: $0["version"], user: $0["user"], at: $0["at"]) }
        }
    }
}
