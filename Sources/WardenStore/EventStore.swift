public import WardenCore

/// An event ready to append: the fields intake extracted and the text to keep.
public struct IncomingEvent: Sendable {
    /// The extracted, validated fields.
    public var parsed: ParsedEvent
    /// The event's JSON text exactly as received.
    public var body: [UInt8]

    /// Pairs fields and text.
    public init(parsed: ParsedEvent, body: [UInt8]) {
        self.parsed = parsed
        self.body = body
    }
}

/// What the log did with one appended event.
public enum AppendOutcome: Sendable, Equatable {
    /// Stored at this sequence number.
    case accepted(seq: Int64)
    /// Already stored at this sequence number with the same content.
    case duplicate(seq: Int64)
    /// The id is taken, at this sequence number, by different content.
    case conflict(seq: Int64)
}

/// An event as stored in the log.
public struct StoredEvent: Sendable, Equatable {
    /// Position in the log; strictly increasing in append order.
    public var seq: Int64
    /// The client's id.
    public var id: String
    /// Event type.
    public var type: String
    /// When it happened (ms since the epoch).
    public var occurredAt: Int64
    /// When Warden committed it (ms since the epoch).
    public var receivedAt: Int64
    /// The JSON text as received.
    public var body: [UInt8]

    /// Creates a stored event.
    public init(seq: Int64, id: String, type: String, occurredAt: Int64, receivedAt: Int64, body: [UInt8]) {
        self.seq = seq
        self.id = id
        self.type = type
        self.occurredAt = occurredAt
        self.receivedAt = receivedAt
        self.body = body
    }
}

/// An entity with the context an investigator wants first.
public struct EntityDetail: Sendable, Equatable {
    /// A linked entity: one that appeared in an event together with this one.
    public struct Link: Sendable, Equatable {
        /// The other entity.
        public var entity: EntityRef
        /// The first event (sequence number) they shared.
        public var firstSeq: Int64

        /// Creates a link.
        public init(entity: EntityRef, firstSeq: Int64) {
            self.entity = entity
            self.firstSeq = firstSeq
        }
    }

    /// The entity.
    public var ref: EntityRef
    /// Earliest `occurred_at` of any event naming it.
    public var firstSeenAt: Int64
    /// How many events name it.
    public var eventCount: Int
    /// Its most recent events, newest first.
    public var recentEvents: [StoredEvent]
    /// Linked entities, most recently linked first.
    public var links: [Link]
    /// The log position the entity graph reflects (see ``EventStore/indexEntities(limit:)``).
    public var indexedThroughSeq: Int64

    /// Creates a detail.
    public init(ref: EntityRef, firstSeenAt: Int64, eventCount: Int, recentEvents: [StoredEvent], links: [Link], indexedThroughSeq: Int64) {
        self.ref = ref
        self.firstSeenAt = firstSeenAt
        self.eventCount = eventCount
        self.recentEvents = recentEvents
        self.links = links
        self.indexedThroughSeq = indexedThroughSeq
    }
}

/// How far the entity graph is behind the log.
public struct EntityIndexProgress: Sendable, Equatable {
    /// Events indexed by this call.
    public var indexed: Int
    /// The last event the graph reflects.
    public var indexedThroughSeq: Int64
    /// The last event in the log.
    public var lastSeq: Int64

    /// Events not yet indexed.
    public var lag: Int64 { lastSeq - indexedThroughSeq }

    /// Creates a progress report.
    public init(indexed: Int, indexedThroughSeq: Int64, lastSeq: Int64) {
        self.indexed = indexed
        self.indexedThroughSeq = indexedThroughSeq
        self.lastSeq = lastSeq
    }
}

/// Totals over the store, for tests, benchmarks and the CLI.
public struct StoreStatistics: Sendable, Equatable {
    /// Events in the log (sequence numbers are dense, so this is also the last `seq`).
    public var eventCount: Int

    /// Creates totals.
    public init(eventCount: Int) {
        self.eventCount = eventCount
    }
}

/// The append-only event log and the entity graph derived from it.
///
/// Appending is the durable, acknowledged step; the graph follows the log through
/// ``indexEntities(limit:)``, a consumer with a cursor kept in the same store (DESIGN.md §1, §4).
public protocol EventStore: Sendable {
    /// Appends events in one transaction, in order, and answers per event. Nothing is visible, and
    /// nothing is answered, before it is durable. Sequence numbers are dense and commit in order
    /// (a reader that has seen `seq` n never finds a smaller one later); received times never fall
    /// along the log (a writer whose clock reads earlier than the last append stamps that time).
    func append(_ events: [IncomingEvent], receivedAt: Int64) async throws -> [AppendOutcome]
    /// The event with this client id.
    func event(id: String) async throws -> StoredEvent?
    /// Events after `seq` in log order, optionally of one type.
    func events(after seq: Int64, limit: Int, type: String?) async throws -> [StoredEvent]
    /// The first position in the log whose event was received at or after `time` (received times
    /// rise with the log), or nil when none was.
    func firstSeq(receivedSince time: Int64) async throws -> Int64?
    /// An entity with its recent events and links, or nil if no event named it.
    func entity(_ ref: EntityRef, recentLimit: Int, linkLimit: Int) async throws -> EntityDetail?
    /// Totals.
    func statistics() async throws -> StoreStatistics
    /// Brings the entity graph up to date with the log by at most `limit` events, in one
    /// transaction with the graph's cursor; returns what it did and how far behind it still is.
    func indexEntities(limit: Int) async throws -> EntityIndexProgress
    /// How far the entity graph is behind the log.
    func entityIndexStatus() async throws -> EntityIndexProgress
    /// Moves committed log data into its final place, off the commit path; `truncate` also
    /// reclaims the space. Returns how much was pending (store-specific units).
    @discardableResult
    func checkpoint(truncate: Bool) async throws -> Int
}
