/// An event as intake understands it: the fields Warden indexes, extracted in one pass, plus the
/// byte range of the `data` payload, which stays opaque until a consumer asks for it.
public struct ParsedEvent: Sendable, Equatable {
    /// The client's id for the event; the idempotency key.
    public var id: String
    /// The event type, such as `message.sent`.
    public var type: String
    /// When it happened, in milliseconds since the epoch (UTC).
    public var occurredAt: Int64
    /// Who did it, if anyone.
    public var actor: EntityRef?
    /// The other entities the event involves, in the order given (the `entities` object).
    public var entities: [EntityRef]
    /// The byte range of the `data` object within the event's text, if present.
    public var dataRange: Range<Int>?

    /// Creates a parsed event (intake makes these with ``EventSchema/parse(_:now:)``).
    public init(id: String, type: String, occurredAt: Int64, actor: EntityRef?, entities: [EntityRef], dataRange: Range<Int>?) {
        self.id = id
        self.type = type
        self.occurredAt = occurredAt
        self.actor = actor
        self.entities = entities
        self.dataRange = dataRange
    }

    /// Every entity the event involves, actor first, without repeats.
    public var involvedEntities: [EntityRef] {
        var all: [EntityRef] = []
        all.reserveCapacity(entities.count + 1)
        if let actor { all.append(actor) }
        for entity in entities where !all.contains(entity) { all.append(entity) }
        return all
    }
}

/// Event types with a meaning of their own in Warden. Clients may send them only in their
/// documented shape, which intake checks.
public enum ReservedEventType {
    /// A user report; see ``ReportSubmission``.
    public static let report = "report"
    /// An appeal against a decision; filed through Warden's appeal API.
    public static let appeal = "appeal"
    /// One step of a bulk job (``BulkInstruction``); written by Warden itself, refused at intake.
    public static let bulk = "warden.bulk"
}
