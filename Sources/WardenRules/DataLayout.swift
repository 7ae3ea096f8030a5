import Foundation
import WardenCore

/// The parts of a counter definition that updating it reads.
struct CounterPlan: Sendable {
    let aggregate: VelocitySyntax.Aggregate
    let filter: Node?
    let value: Node?
    let keySlot: Int
    let valueSlot: Int?
    let width: Int64
    let window: Int64

    init(_ counter: CounterDefinition) {
        aggregate = counter.aggregate
        filter = counter.filter
        value = counter.value
        keySlot = counter.keySlot
        valueSlot = counter.valueSlot
        width = counter.bucketWidth
        window = counter.window
    }
}

/// A rule to evaluate for an event type, with its condition specialised to that type.
struct Candidate: Sendable {
    let index: Int
    let condition: Node
}

/// A text function applied to a text, for per-event memoisation.
struct TextCall: Hashable {
    let function: Function
    let input: String
}

extension Function {
    /// Pure functions of one text argument, worth remembering within an event.
    var isTextTransform: Bool {
        switch self {
        case .lower, .upper, .normalize, .domains, .urls: true
        default: false
        }
    }
}

/// Values computed once per event and reused by every rule that reads them: `data` fields, counter
/// key hashes and counter values. The arrays live as long as the detector; an entry belongs to
/// the current event when its stamp equals the event's serial number, so nothing is cleared
/// between events.
struct Scratch: Sendable {
    var serial: UInt64 = 0
    var dataFields: [DataField]
    var dataFieldStamps: [UInt64]
    var dataValues: [Value]
    var dataStamps: [UInt64]
    var keyHashes: [UInt64?]
    var keyStamps: [UInt64]
    var counterValues: [Double]
    var counterStamps: [UInt64]
    var memberRanges: [Range<Int>?]
    var membersStamp: UInt64 = 0
    /// Counters the rule being evaluated read, with their values (for its explanation).
    var readCounters: [(counter: Int, value: Double)] = []

    init(_ rules: RuleSet, layout: DataLayout) {
        dataFields = Array(repeating: .missing, count: rules.dataPaths.count)
        dataFieldStamps = Array(repeating: 0, count: rules.dataPaths.count)
        dataValues = Array(repeating: .null, count: rules.dataPaths.count)
        dataStamps = Array(repeating: 0, count: rules.dataPaths.count)
        keyHashes = Array(repeating: nil, count: rules.counterKeys.count)
        keyStamps = Array(repeating: 0, count: rules.counterKeys.count)
        counterValues = Array(repeating: 0, count: rules.counters.count)
        counterStamps = Array(repeating: 0, count: rules.counters.count)
        memberRanges = Array(repeating: nil, count: layout.members.count)
    }

    /// An empty placeholder (no storage).
    init() {
        dataFields = []
        dataFieldStamps = []
        dataValues = []
        dataStamps = []
        keyHashes = []
        keyStamps = []
        counterValues = []
        counterStamps = []
        memberRanges = []
    }

    /// Forgets the previous event's values.
    mutating func startEvent() {
        serial &+= 1
    }

    func dataField(_ slot: Int) -> DataField? {
        dataFieldStamps[slot] == serial ? dataFields[slot] : nil
    }

    mutating func remember(field: DataField, slot: Int) {
        dataFields[slot] = field
        dataFieldStamps[slot] = serial
    }

    func data(_ slot: Int) -> Value? {
        dataStamps[slot] == serial ? dataValues[slot] : nil
    }

    mutating func remember(data value: Value, slot: Int) {
        dataValues[slot] = value
        dataStamps[slot] = serial
    }

    /// The key hash if computed for this event (which may be nil: no key).
    func keyHash(_ slot: Int) -> UInt64?? {
        keyStamps[slot] == serial ? .some(keyHashes[slot]) : nil
    }

    mutating func remember(keyHash: UInt64?, slot: Int) {
        keyHashes[slot] = keyHash
        keyStamps[slot] = serial
    }

    /// Where a member of `data` the rules read is, from one pass over `data` per event.
    mutating func member(_ index: Int, of layout: DataLayout, in bytes: UnsafeBufferPointer<UInt8>, data: Range<Int>) -> Range<Int>? {
        if membersStamp != serial {
            JSONMembers.locate(layout.members, in: UnsafeBufferPointer(rebasing: bytes[data]), base: data.lowerBound, into: &memberRanges)
            membersStamp = serial
        }
        return memberRanges[index]
    }

    func counterValue(_ index: Int) -> Double? {
        counterStamps[index] == serial ? counterValues[index] : nil
    }

    mutating func remember(counterValue: Double, index: Int) {
        counterValues[index] = counterValue
        counterStamps[index] = serial
    }
}

/// The `data` paths rules read, arranged for finding them in one pass: the distinct members of
/// `data` they start with, and for each path its member and the steps below it.
final class DataLayout: Sendable {
    /// The distinct first steps, as UTF-8.
    let members: [[UInt8]]
    /// For each path (by slot), its first step's index in ``members``.
    let memberOfSlot: [Int]
    /// For each path, the steps after the first (empty for a member of `data` itself).
    let rest: [[String]]

    init(_ paths: [[String]]) {
        var members: [[UInt8]] = []
        var memberOfSlot: [Int] = []
        for path in paths {
            let first = Array((path.first ?? "").utf8)
            if let index = members.firstIndex(of: first) {
                memberOfSlot.append(index)
            } else {
                memberOfSlot.append(members.count)
                members.append(first)
            }
        }
        self.members = members
        self.memberOfSlot = memberOfSlot
        rest = paths.map { Array($0.dropFirst()) }
    }
}

/// Where a `data` field of the event is: missing, a string without escapes (its contents' bytes),
/// or any other value (its bytes, decoded on use).
enum DataField: Sendable {
    case missing
    case text(Range<Int>)
    case other(Range<Int>)
}

/// What evaluation knows about the event at hand. `bytes` (the event's text) is valid only while
/// the detector processes the event.
struct EventContext {
    let event: ParsedEvent
    let bytes: UnsafeBufferPointer<UInt8>
    let layout: DataLayout
    var scratch = Scratch()
    /// Evaluating without changing state (``Detector/peek(_:body:)``).
    var isVirtual = false
    /// Results of text functions already computed for this event.
    var textCalls: [TextCall: Value] = [:]
    /// Classifier scores already computed for this event, by classifier and text.
    var classifications: [String: [String: Double]] = [:]
    /// Calls to served classifiers reached so far (answered later, unknown now).
    var servedCalls = 0

    init(event: ParsedEvent, bytes: UnsafeBufferPointer<UInt8>, layout: DataLayout) {
        self.event = event
        self.bytes = bytes
        self.layout = layout
    }

    /// Where a `data` path's value is in the event's bytes, found once per event. The first time
    /// the event's `data` is read, one pass over it finds every member the rules read (intake
    /// validated the text, so values are skipped without validating them again); a deeper path is
    /// then looked for inside its member only.
    mutating func dataField(_ slot: Int) -> DataField {
        if let known = scratch.dataField(slot) { return known }
        var field = DataField.missing
        if let data = event.dataRange, let member = scratch.member(layout.memberOfSlot[slot], of: layout, in: bytes, data: data),
           let range = layout.rest[slot].isEmpty ? member : JSONValue.location(of: layout.rest[slot], in: UnsafeBufferPointer(rebasing: bytes[member]))
               .map({ ($0.lowerBound + member.lowerBound)..<($0.upperBound + member.lowerBound) }) {
            field = .other(range)
            if bytes[range.lowerBound] == UInt8(ascii: "\""), range.count >= 2 {
                let contents = (range.lowerBound + 1)..<(range.upperBound - 1)
                if !bytes[contents].contains(UInt8(ascii: "\\")) { field = .text(contents) }
            }
        }
        scratch.remember(field: field, slot: slot)
        return field
    }

    mutating func value(of field: Field) -> Value {
        switch field {
        case .id: return .string(event.id)
        case .type: return .string(event.type)
        case .occurredAt: return .number(Double(event.occurredAt))
        case .actor: return event.actor.map(Value.entity) ?? .null
        case .actorID: return event.actor.map { .string($0.id) } ?? .null
        case .actorType: return event.actor.map { .string($0.type) } ?? .null
        case .entity(let type):
            for entity in event.entities where entity.type == type { return .entity(entity) }
            if let actor = event.actor, actor.type == type { return .entity(actor) }
            return .null
        case .data(let slot):
            if let known = scratch.data(slot) { return known }
            let value: Value
            switch dataField(slot) {
            case .missing: value = .null
            case .text(let range): value = .string(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
            case .other(let range): value = JSONValue.parse(UnsafeBufferPointer(rebasing: bytes[range])).map(Value.init) ?? .null
            }
            scratch.remember(data: value, slot: slot)
            return value
        }
    }
}
