import Foundation

/// A user report as clients submit it to `POST /v1/reports`. Warden stores it as an event of the
/// reserved type `report`, so reports flow through the same log, dedupe and detection as events.
public struct ReportSubmission: Codable, Sendable, Equatable {
    /// An entity in the submission's wire form.
    public struct Party: Codable, Sendable, Equatable {
        /// Entity type, such as `user`.
        public var type: String
        /// Entity id.
        public var id: String
        /// Creates a party.
        public init(type: String, id: String) {
            self.type = type
            self.id = id
        }
    }

    /// Optional client id for idempotent retries; generated when absent.
    public var id: String?
    /// Who reports.
    public var reporter: Party
    /// The reported entity. Give this or `contentID`.
    public var subject: Party?
    /// The reported content id, shorthand for subject `content:<id>`.
    public var contentID: String?
    /// A category id of the policy taxonomy.
    public var reason: String
    /// The reporter's own words.
    public var text: String?
    /// When the report was made (RFC 3339); defaults to when Warden received it.
    public var occurredAt: String?

    enum CodingKeys: String, CodingKey {
        case id, reporter, subject, reason, text
        case contentID = "content_id"
        case occurredAt = "occurred_at"
    }

    /// Creates a submission.
    public init(id: String? = nil, reporter: Party, subject: Party? = nil, contentID: String? = nil, reason: String, text: String? = nil, occurredAt: String? = nil) {
        self.id = id
        self.reporter = reporter
        self.subject = subject
        self.contentID = contentID
        self.reason = reason
        self.text = text
        self.occurredAt = occurredAt
    }

    /// The stored event's JSON text. `defaultID` and `now` fill in what the client left out.
    public func eventJSON(defaultID: String, now: Int64) throws(EventError) -> [UInt8] {
        let subjectRef: EntityRef
        switch (subject, contentID) {
        case (let subject?, nil): subjectRef = EntityRef(type: subject.type, id: subject.id)
        case (nil, let content?): subjectRef = EntityRef(type: "content", id: content)
        case (nil, nil): throw .invalid("subject", "give the reported entity as subject {\"type\",\"id\"} or content_id")
        case (.some, .some): throw .invalid("content_id", "give either subject or content_id, not both")
        }
        let event = StoredReport(
            id: id ?? defaultID,
            type: ReservedEventType.report,
            occurredAt: occurredAt ?? Timestamp.formatRFC3339(now),
            actor: reporter,
            entities: [subjectRef.type: subjectRef.id],
            data: .init(reason: reason, subject: subjectRef.description, text: text)
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(event))
        } catch {
            throw EventError(kind: .invalid, message: "the report could not be encoded: \(error)")
        }
    }

    /// The submission's own name for a field of the stored event, so errors point at what the
    /// client sent (`reason`, not `data.reason`).
    public static func submissionField(forEventField field: String) -> String {
        if field == "actor" || field.hasPrefix("actor.") { return "reporter" + field.dropFirst("actor".count) }
        if field.hasPrefix("data.") { return String(field.dropFirst("data.".count)) }
        if field.hasPrefix("entities") { return "subject" }
        return field
    }

    private struct StoredReport: Encodable {
        struct Data: Encodable {
            var reason: String
            var subject: String
            var text: String?
        }
        var id: String
        var type: String
        var occurredAt: String
        var actor: Party
        var entities: [String: String]
        var data: Data

        enum CodingKeys: String, CodingKey {
            case id, type, actor, entities, data
            case occurredAt = "occurred_at"
        }
    }
}
