/// One step of a bulk job, written to the event log as an event of the reserved type
/// `warden.bulk` about one entity. Detection applies it like a rule's effect (a label set or
/// removed, or a signal that opens a case), so labels and cases from a bulk job are replayed
/// from the log exactly as rules' are, and a retried step is a duplicate event, never a second one.
public struct BulkInstruction: Sendable, Equatable {
    /// What the step does.
    public enum Operation: Sendable, Equatable {
        /// Set (or extend) a label, lapsing at `expiresAt` if given.
        case label(name: String, expiresAt: Int64?)
        /// Remove a label.
        case unlabel(name: String)
        /// Raise a signal about the entity that opens (or joins) a case in `queue`.
        case openCase(queue: String, category: String, severity: String, reason: String?)
    }

    /// The bulk job.
    public var job: Int64
    /// The entity it is about.
    public var entity: EntityRef
    public var operation: Operation

    public init(job: Int64, entity: EntityRef, operation: Operation) {
        self.job = job
        self.entity = entity
        self.operation = operation
    }

    /// The rule name signals from bulk job `job` carry (`bulk:12`).
    public static func ruleName(job: Int64) -> String { "bulk:\(job)" }

    /// The event's JSON text. `id` is the step's idempotency key; `occurredAt` is fixed per job
    /// so that a retried step is byte-for-byte the event already stored.
    public func eventJSON(id: String, occurredAt: Int64) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        writer.field("id", id)
        writer.field("type", ReservedEventType.bulk)
        writer.field("occurred_at", Timestamp.formatRFC3339(occurredAt))
        writer.key("entities")
        writer.beginObject()
        writer.field(entity.type, entity.id)
        writer.endObject()
        writer.key("data")
        writer.beginObject()
        writer.field("job", job)
        switch operation {
        case .label(let name, let expiresAt):
            writer.field("op", "label")
            writer.field("label", name)
            if let expiresAt { writer.field("expires_at", expiresAt) }
        case .unlabel(let name):
            writer.field("op", "unlabel")
            writer.field("label", name)
        case .openCase(let queue, let category, let severity, let reason):
            writer.field("op", "case")
            writer.field("queue", queue)
            writer.field("category", category)
            writer.field("severity", severity)
            if let reason { writer.field("reason", reason) }
        }
        writer.endObject()
        writer.endObject()
        return writer.bytes
    }

    /// Reads the instruction back from a stored `warden.bulk` event; nil when the event is not one
    /// Warden wrote (which intake never lets through).
    public init?(event: ParsedEvent, bytes: UnsafeBufferPointer<UInt8>) {
        guard event.type == ReservedEventType.bulk, event.entities.count == 1, let range = event.dataRange,
              let data = JSONValue.parse(UnsafeBufferPointer(rebasing: bytes[range])),
              case .number(let jobNumber)? = data["job"], let job = Int64(exactly: jobNumber),
              case .string(let op)? = data["op"] else { return nil }
        let text: (String) -> String? = { key in if case .string(let value)? = data[key] { value } else { nil } }
        let operation: Operation
        switch op {
        case "label":
            guard let name = text("label") else { return nil }
            var expiresAt: Int64?
            if case .number(let value)? = data["expires_at"] { expiresAt = Int64(exactly: value) }
            operation = .label(name: name, expiresAt: expiresAt)
        case "unlabel":
            guard let name = text("label") else { return nil }
            operation = .unlabel(name: name)
        case "case":
            guard let queue = text("queue"), let category = text("category"), let severity = text("severity") else { return nil }
            operation = .openCase(queue: queue, category: category, severity: severity, reason: text("reason"))
        default:
            return nil
        }
        self.init(job: job, entity: event.entities[0], operation: operation)
    }
}
