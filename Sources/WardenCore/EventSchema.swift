/// Limits on one event's size and shape. The defaults are generous for real products and small
/// enough that one client cannot exhaust memory.
public struct EventLimits: Sendable, Equatable {
    /// Largest accepted event text in bytes.
    public var maxEventBytes = 1 << 20
    /// Longest accepted event id.
    public var maxIDLength = 200
    /// Longest accepted event type.
    public var maxTypeLength = 100
    /// Longest accepted entity id, in bytes.
    public var maxEntityIDBytes = 256
    /// Most entities one event may name.
    public var maxEntities = 32
    /// Deepest nesting inside `data`.
    public var maxDepth = 32
    /// How far in the future `occurred_at` may be, in milliseconds (clock skew allowance).
    public var maxFutureSkewMillis: Int64 = 24 * 3600 * 1000

    /// The default limits.
    public init() {}
}

/// What a valid event is: the wire format, the registered entity types, the report reasons of the
/// policy taxonomy and the size limits. ``parse(_:now:)`` checks an event against all of it in one pass.
public struct EventSchema: Sendable {
    /// Registered entity types.
    public var entityTypes: EntityTypes
    /// Category ids a report may give as its reason.
    public var reportReasons: Set<String>
    /// Size and shape limits.
    public var limits: EventLimits
    /// Re-reading events that already passed intake (possibly under an earlier pack): any
    /// well-formed entity type is accepted and report reasons are not re-judged. Never set for intake.
    public var rereadsStoredEvents = false
    /// Bulk jobs' own steps (`warden.bulk` events) are accepted: set only on the copy Warden
    /// writes them with, never for intake.
    public var acceptsBulkInstructions = false

    /// Creates a schema.
    public init(entityTypes: EntityTypes = EntityTypes(), reportReasons: Set<String>, limits: EventLimits = EventLimits()) {
        self.entityTypes = entityTypes
        self.reportReasons = reportReasons
        self.limits = limits
    }

    /// Parses and validates one event. `now` (milliseconds since the epoch) bounds `occurred_at`.
    public func parse(_ bytes: UnsafeBufferPointer<UInt8>, now: Int64) throws(EventError) -> ParsedEvent {
        guard bytes.count <= limits.maxEventBytes else {
            throw EventError(kind: .tooLarge, message: "event is \(bytes.count) bytes; the limit is \(limits.maxEventBytes)")
        }
        var scanner = JSONScanner(bytes, maxDepth: limits.maxDepth)
        guard let first = scanner.peek() else { throw EventError(kind: .syntax, offset: 0, message: "empty event") }
        guard first == UInt8(ascii: "{") else {
            throw scanner.error("an event must be a JSON object starting with '{'")
        }
        scanner.index += 1

        var id: String?
        var type: String?
        var occurredAt: Int64?
        var actor: EntityRef?
        var sawActor = false
        var entities: [EntityRef] = []
        var sawEntities = false
        var dataRange: Range<Int>?
        var fieldError: EventError?

        func note(_ error: EventError) {
            if fieldError == nil { fieldError = error }
        }

        if scanner.peek() == UInt8(ascii: "}") {
            scanner.index += 1
        } else {
            while true {
                let key = try scanner.scanString()
                try scanner.expect(UInt8(ascii: ":"), "':' after a field name")
                if scanner.raw(key, equals: "id") {
                    if id != nil { note(.invalid("id", "appears more than once")) }
                    id = try stringField(&scanner, "id", maxBytes: limits.maxIDLength, note: note)
                } else if scanner.raw(key, equals: "type") {
                    if type != nil { note(.invalid("type", "appears more than once")) }
                    type = try stringField(&scanner, "type", maxBytes: limits.maxTypeLength, note: note)
                } else if scanner.raw(key, equals: "occurred_at") {
                    if occurredAt != nil { note(.invalid("occurred_at", "appears more than once")) }
                    occurredAt = try timestampField(&scanner, now: now, note: note)
                } else if scanner.raw(key, equals: "actor") {
                    if sawActor { note(.invalid("actor", "appears more than once")) }
                    sawActor = true
                    actor = try actorField(&scanner, note: note)
                } else if scanner.raw(key, equals: "entities") {
                    if sawEntities { note(.invalid("entities", "appears more than once")) }
                    sawEntities = true
                    entities = try entitiesField(&scanner, note: note)
                } else if scanner.raw(key, equals: "data") {
                    if dataRange != nil { note(.invalid("data", "appears more than once")) }
                    let isObject = scanner.peek() == UInt8(ascii: "{")
                    let valueStart = scanner.index
                    try scanner.skipValue(depth: 1)
                    if isObject {
                        dataRange = valueStart..<scanner.index
                    } else {
                        note(.invalid("data", "must be a JSON object"))
                    }
                } else {
                    let name = scanner.decode(key)
                    try scanner.skipValue(depth: 1)
                    note(.invalid(name, "unknown field; an event has id, type, occurred_at, actor, entities and data (put product fields inside data)"))
                }
                guard let next = scanner.peek() else { throw scanner.error("unexpected end of JSON inside the event object") }
                scanner.index += 1
                if next == UInt8(ascii: "}") { break }
                guard next == UInt8(ascii: ",") else { throw scanner.error("expected ',' or '}' after a field", at: scanner.index - 1) }
            }
        }
        try scanner.expectEnd()

        if let fieldError { throw fieldError }
        guard let id else { throw .invalid("id", "is required: a unique id for the event, such as \"evt_123\"") }
        guard let type else { throw .invalid("type", "is required: the kind of event, such as \"message.sent\"") }
        guard let occurredAt else { throw .invalid("occurred_at", "is required: when it happened, RFC 3339, such as \"2026-11-23T10:00:00Z\"") }
        try checkID(id)
        try checkType(type)
        guard entities.count <= limits.maxEntities else {
            throw .invalid("entities", "names \(entities.count) entities; the limit is \(limits.maxEntities)")
        }
        let event = ParsedEvent(id: id, type: type, occurredAt: occurredAt, actor: actor, entities: entities, dataRange: dataRange)
        if type == ReservedEventType.report, !rereadsStoredEvents {
            try checkReport(event, bytes)
        } else if type == ReservedEventType.appeal {
            throw .invalid("type", "\"appeal\" is reserved for appeals filed through Warden's appeal API")
        } else if type == ReservedEventType.bulk, !rereadsStoredEvents, !acceptsBulkInstructions {
            throw .invalid("type", "\"\(ReservedEventType.bulk)\" is reserved for Warden's bulk jobs (POST /v1/bulk)")
        }
        return event
    }

    // MARK: - Fields

    private func stringField(
        _ scanner: inout JSONScanner, _ name: @autoclosure () -> String, maxBytes: Int, note: (EventError) -> Void
    ) throws(EventError) -> String? {
        guard scanner.peek() == UInt8(ascii: "\"") else {
            try scanner.skipValue(depth: 1)
            note(.invalid(name(), "must be a string"))
            return nil
        }
        let raw = try scanner.scanString()
        guard raw.range.count <= maxBytes * 6 else {
            note(.invalid(name(), "is \(raw.range.count) bytes long; the limit is \(maxBytes) characters"))
            return nil
        }
        let value = scanner.decode(raw)
        // Characters never outnumber bytes, so only a long text needs counting.
        guard raw.range.count <= maxBytes || value.count <= maxBytes else {
            note(.invalid(name(), "is \(value.count) characters long; the limit is \(maxBytes)"))
            return nil
        }
        return value
    }

    private func timestampField(_ scanner: inout JSONScanner, now: Int64, note: (EventError) -> Void) throws(EventError) -> Int64? {
        guard scanner.peek() == UInt8(ascii: "\"") else {
            try scanner.skipValue(depth: 1)
            note(.invalid("occurred_at", "must be an RFC 3339 string such as \"2026-11-23T10:00:00Z\""))
            return nil
        }
        let raw = try scanner.scanString()
        guard !raw.hasEscapes, let millis = Timestamp.parseRFC3339(UnsafeBufferPointer(rebasing: scanner.bytes[raw.range])) else {
            note(.invalid("occurred_at", "is not an RFC 3339 date-time with a time zone, such as \"2026-11-23T10:00:00Z\""))
            return nil
        }
        guard millis >= 0 else {
            note(.invalid("occurred_at", "is before 1970-01-01"))
            return nil
        }
        guard millis <= now + limits.maxFutureSkewMillis else {
            note(.invalid("occurred_at", "is more than \(limits.maxFutureSkewMillis / 3_600_000) hours in the future; check the sender's clock"))
            return nil
        }
        return millis
    }

    private func actorField(_ scanner: inout JSONScanner, note: (EventError) -> Void) throws(EventError) -> EntityRef? {
        if scanner.peek() == UInt8(ascii: "n") {
            try scanner.literal("null")
            return nil
        }
        guard scanner.peek() == UInt8(ascii: "{") else {
            try scanner.skipValue(depth: 1)
            note(.invalid("actor", "must be an object such as {\"type\":\"user\",\"id\":\"u1\"}"))
            return nil
        }
        scanner.index += 1
        var type: String?
        var id: String?
        if scanner.peek() == UInt8(ascii: "}") {
            scanner.index += 1
        } else {
            while true {
                let key = try scanner.scanString()
                try scanner.expect(UInt8(ascii: ":"), "':' after a field name")
                if scanner.raw(key, equals: "type") {
                    type = try stringField(&scanner, "actor.type", maxBytes: 40, note: note)
                } else if scanner.raw(key, equals: "id") {
                    id = try stringField(&scanner, "actor.id", maxBytes: limits.maxEntityIDBytes, note: note)
                } else {
                    let name = scanner.decode(key)
                    try scanner.skipValue(depth: 2)
                    note(.invalid("actor.\(name)", "unknown field; an actor has only type and id"))
                }
                guard let next = scanner.peek() else { throw scanner.error("unexpected end of JSON inside actor") }
                scanner.index += 1
                if next == UInt8(ascii: "}") { break }
                guard next == UInt8(ascii: ",") else { throw scanner.error("expected ',' or '}' in actor", at: scanner.index - 1) }
            }
        }
        guard let type else {
            note(.invalid("actor.type", "is required, such as \"user\""))
            return nil
        }
        guard let id else {
            note(.invalid("actor.id", "is required"))
            return nil
        }
        if let problem = problemWithEntity(type: type, id: id, field: "actor") {
            note(problem)
            return nil
        }
        return EntityRef(type: type, id: id)
    }

    private func entitiesField(_ scanner: inout JSONScanner, note: (EventError) -> Void) throws(EventError) -> [EntityRef] {
        guard scanner.peek() == UInt8(ascii: "{") else {
            try scanner.skipValue(depth: 1)
            note(.invalid("entities", "must be an object mapping entity type to id, such as {\"ip\":\"203.0.113.7\"}"))
            return []
        }
        scanner.index += 1
        var entities: [EntityRef] = []
        if scanner.peek() == UInt8(ascii: "}") {
            scanner.index += 1
            return entities
        }
        while true {
            let key = try scanner.scanString()
            let type = scanner.decode(key)
            try scanner.expect(UInt8(ascii: ":"), "':' after an entity type")
            if let id = try stringField(&scanner, "entities.\(type)", maxBytes: limits.maxEntityIDBytes, note: note) {
                if let problem = problemWithEntity(type: type, id: id, field: "entities.\(type)") {
                    note(problem)
                } else if entities.contains(where: { $0.type == type }) {
                    note(.invalid("entities.\(type)", "appears more than once"))
                } else {
                    entities.append(EntityRef(type: type, id: id))
                }
            }
            guard let next = scanner.peek() else { throw scanner.error("unexpected end of JSON inside entities") }
            scanner.index += 1
            if next == UInt8(ascii: "}") { break }
            guard next == UInt8(ascii: ",") else { throw scanner.error("expected ',' or '}' in entities", at: scanner.index - 1) }
        }
        return entities
    }

    // MARK: - Values

    private func checkID(_ id: String) throws(EventError) {
        guard !id.isEmpty else { throw .invalid("id", "must not be empty") }
        let allowed = id.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "@"), UInt8(ascii: "+"), UInt8(ascii: "="):
                true
            default: false
            }
        }
        guard allowed else { throw .invalid("id", "may contain only letters, digits and _ - . : / @ + =") }
    }

    private func checkType(_ type: String) throws(EventError) {
        guard Self.isDottedName(type) else {
            throw .invalid("type", "must be lower-case words joined by dots, such as \"message.sent\"")
        }
    }

    /// Lower-case words (letter first, then letters, digits, `_`) joined by single dots.
    static func isDottedName(_ text: String) -> Bool {
        var atWordStart = true
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"):
                atWordStart = false
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                if atWordStart { return false }
            case UInt8(ascii: "."):
                if atWordStart { return false }
                atWordStart = true
            default:
                return false
            }
        }
        return !atWordStart
    }

    private func problemWithEntity(type: String, id: String, field: @autoclosure () -> String) -> EventError? {
        guard entityTypes.contains(type) || (rereadsStoredEvents && EntityTypes.isWellFormed(type)) else {
            let hint = EntityTypes.isWellFormed(type) ? "register it in the policy pack's pack.yaml (entity_types)" : "entity types are lower-case words"
            return .invalid(field(), "unknown entity type \"\(type)\"; \(hint). Known types: \(entityTypes.names.joined(separator: ", "))")
        }
        guard !id.isEmpty else { return .invalid(field(), "id must not be empty") }
        guard id.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else { return .invalid(field(), "id must not contain control characters") }
        if type == "ip", !IPAddress.isValid(id) {
            return .invalid(field(), "\"\(id.prefix(60))\" is not an IPv4 or IPv6 address")
        }
        return nil
    }

    // MARK: - Reports

    private func checkReport(_ event: ParsedEvent, _ bytes: UnsafeBufferPointer<UInt8>) throws(EventError) {
        guard event.actor != nil else { throw .invalid("actor", "a report needs the reporter as its actor") }
        guard let dataRange = event.dataRange else { throw .invalid("data", "a report needs data with reason and subject") }
        var scanner = JSONScanner(UnsafeBufferPointer(rebasing: bytes[dataRange]), maxDepth: limits.maxDepth)
        var reason: String?
        var subject: String?
        scanner.index += 1
        if scanner.peek() != UInt8(ascii: "}") {
            while true {
                let key = try scanner.scanString()
                try scanner.expect(UInt8(ascii: ":"), "':'")
                if scanner.raw(key, equals: "reason"), scanner.peek() == UInt8(ascii: "\"") {
                    reason = scanner.decode(try scanner.scanString())
                } else if scanner.raw(key, equals: "subject"), scanner.peek() == UInt8(ascii: "\"") {
                    subject = scanner.decode(try scanner.scanString())
                } else {
                    try scanner.skipValue(depth: 2)
                }
                guard scanner.peek() == UInt8(ascii: ",") else { break }
                scanner.index += 1
            }
        }
        guard let reason else { throw .invalid("data.reason", "is required: a category of the policy taxonomy") }
        guard reportReasons.contains(reason) else {
            throw .invalid("data.reason", "\"\(reason.prefix(80))\" is not a category of the policy taxonomy; GET /v1/taxonomy lists them")
        }
        guard let subject, let subjectRef = EntityRef(parsing: subject) else {
            throw .invalid("data.subject", "is required: the reported entity as type:id, such as \"user:u1\"")
        }
        guard event.entities.contains(subjectRef) else {
            throw .invalid("data.subject", "\(subject.prefix(80)) must also appear in entities")
        }
    }
}
