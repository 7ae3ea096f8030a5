import Foundation
import WardenCore

extension Detector {
    // MARK: - Counters

    mutating func updateCounters(_ context: inout EventContext) {
        let time = context.event.occurredAt
        for index in countersByType[context.event.type] ?? countersForAnyType {
            // The type index already holds only the counters this event's type can feed. Fields
            // are read from the plan in place: copying a whole plan would retain its expressions.
            if let filter = counterPlans[index].filter, truth(filter, &context) != .true { continue }
            guard let key = keyHash(counterPlans[index].keySlot, &context) else { continue }
            let (width, window) = (counterPlans[index].width, counterPlans[index].window)
            switch counterPlans[index].aggregate {
            case .count:
                bucketWindows[index][key, default: BucketWindow(0, at: time, width: width)].add(1, at: time, width: width, window: window)
            case .sum:
                guard let value = counterPlans[index].value.flatMap({ evaluate($0, &context).numeric }) else { continue }
                bucketWindows[index][key, default: BucketWindow(0, at: time, width: width)].add(value, at: time, width: width, window: window)
            case .distinct:
                guard let slot = counterPlans[index].valueSlot, let value = keyHash(slot, &context) else { continue }
                if distinctWindows[index][key]?.add(value, at: time, window: window) == nil {
                    distinctWindows[index][key] = DistinctWindow(value, at: time)
                }
            }
        }
    }

    /// The hash of a counter key expression for this event, computed once per event.
    func keyHash(_ slot: Int, _ context: inout EventContext) -> UInt64? {
        if let cached = context.scratch.keyHash(slot) { return cached }
        let hash = evaluate(rules.counterKeys[slot], &context).keyHash
        context.scratch.remember(keyHash: hash, slot: slot)
        return hash
    }

    func counterValue(_ index: Int, _ context: inout EventContext) -> Value {
        if let cached = context.scratch.counterValue(index) {
            context.scratch.readCounters.append((index, cached))
            return .number(cached)
        }
        // The plan is read in place: copying the counter's definition would retain its expressions.
        guard let key = keyHash(counterPlans[index].keySlot, &context) else { return .null }
        let (time, width, window) = (context.event.occurredAt, counterPlans[index].width, counterPlans[index].window)
        var value: Double
        switch counterPlans[index].aggregate {
        case .count, .sum: value = bucketWindows[index][key]?.total(at: time, width: width, window: window) ?? 0
        case .distinct: value = Double(distinctWindows[index][key]?.count(at: time, window: window) ?? 0)
        }
        if context.isVirtual {
            countVirtually(index, key: key, into: &value, &context)
        }
        context.scratch.remember(counterValue: value, index: index)
        context.scratch.readCounters.append((index, value))
        return .number(value)
    }

    /// For a dry run, adds the event itself to a counter's value, as processing it would.
    func countVirtually(_ index: Int, key: UInt64, into value: inout Double, _ context: inout EventContext) {
        let counter = rules.counters[index]
        let time = context.event.occurredAt
        if counter.eventType.map({ $0 == context.event.type }) ?? true,
           counter.filter.map({ truth($0, &context) == .true }) ?? true {
            // The event counts itself, as it would once processed.
            switch counter.aggregate {
            case .count: value += 1
            case .sum: value += counter.value.flatMap { evaluate($0, &context).numeric } ?? 0
            case .distinct:
                if let slot = counter.valueSlot, let item = keyHash(slot, &context),
                   distinctWindows[index][key]?.contains(item, at: time, window: counter.window) != true {
                    value += 1
                }
            }
        }
    }

    /// Drops counter keys whose windows hold nothing any more, and lapsed labels.
    mutating func sweep(at time: Int64) {
        for (index, counter) in rules.counters.enumerated() {
            bucketWindows[index] = bucketWindows[index].filter { !$0.value.isStale(at: time, width: counter.bucketWidth, window: counter.window) }
            distinctWindows[index] = distinctWindows[index].filter { !$0.value.isStale(at: time, window: counter.window) }
        }
        labels = labels.compactMapValues { entries in
            let live = entries.filter { $0.value.expiresAt.map { $0 > time } ?? true }
            return live.isEmpty ? nil : live
        }
    }
}
