/// What a domain planner asks the store to write beside its own rows: audit entries and webhook
/// deliveries. Shared by every domain (review, incidents) so one store path applies them.

/// An audit entry to append to the chain.
public struct AuditDraft: Sendable, Equatable {
    public var at: Int64
    public var actor: ActorRef
    public var action: String
    public var target: String
    /// A JSON object.
    public var detail: String

    /// Creates an audit entry.
    public init(at: Int64, actor: ActorRef, action: String, target: String, detail: String) {
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.detail = detail
    }
}

/// A webhook delivery to queue. Deliveries with the same `orderingKey` go out one at a time in the
/// order they were queued; `idempotencyKey` is derived from what caused it, so queueing it twice
/// queues it once.
public struct OutboxMessage: Sendable, Equatable {
    public var topic: String
    public var idempotencyKey: String
    public var orderingKey: String
    /// The whole JSON envelope sent (`id`, `topic`, `created_at`, `data`).
    public var body: String
    public var at: Int64
    /// Where it goes: "" for the product's webhook (`enforcement.yaml`), otherwise the name of a
    /// notification channel (`oncall.yaml`: a chat webhook, PagerDuty, another signed webhook).
    public var destination: String

    /// Creates a delivery.
    public init(topic: String, idempotencyKey: String, orderingKey: String, body: String, at: Int64, destination: String = "") {
        self.topic = topic
        self.idempotencyKey = idempotencyKey
        self.orderingKey = orderingKey
        self.body = body
        self.at = at
        self.destination = destination
    }
}
