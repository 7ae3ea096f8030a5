import WardenCore
/// What the console's dashboards compute from loaded cases and counts: time to first action and
/// to resolution per queue and band against the SLA targets, attainment, daily and weekly series.
/// Pure: the store loads, this counts.
public enum ReviewStatistics {
    /// Resolved cases of one queue and band.
    public struct Timing: Sendable, Equatable {
        public var queue: String
        public var band: CasePriority.Band
        public var resolved: Int
        public var firstActionP50: Int64?
        public var firstActionP90: Int64?
        public var resolutionP50: Int64?
        public var resolutionP90: Int64?
        public var firstActionTarget: Int64?
        public var resolutionTarget: Int64?
        /// Share of the cases with a resolution target resolved within it (SLA time, pauses excluded).
        public var attainment: Double?
    }

    /// The `p`-quantile (0…1) of `values` by the nearest-rank method; nil when empty.
    public static func percentile(_ values: [Int64], _ p: Double) -> Int64? {
        values.isEmpty ? nil : Distributions.nearestRank(sorted: values.sorted(), p)
    }

    /// Timings of resolved cases per queue and band, in the pack's queue order then band order.
    /// Time to first action and to resolution are wall-clock from opening; attainment uses the
    /// SLA clock (business hours and pauses as the queue counts them).
    public static func timings(_ resolved: [CaseRecord], policy: ReviewPolicy) -> [Timing] {
        var groups: [String: [CasePriority.Band: [CaseRecord]]] = [:]
        for record in resolved where record.resolvedAt != nil {
            groups[record.queue, default: [:]][record.band, default: []].append(record)
        }
        let order = policy.configuration.queueOrder + groups.keys.filter { policy.configuration.queues[$0] == nil }.sorted()
        var timings: [Timing] = []
        for queue in order {
            guard let bands = groups[queue] else { continue }
            for band in CasePriority.Band.allCases {
                guard let records = bands[band] else { continue }
                let targets = policy.sla(of: queue).targets[band]
                let firstActions = records.compactMap { record in record.firstActionAt.map { $0 - record.createdAt } }
                let resolutions = records.compactMap { record in record.resolvedAt.map { $0 - record.createdAt } }
                var attainment: Double?
                if targets?.resolution != nil {
                    let within = records.filter { record in
                        let status = CaseSLAStatus(record, policy: policy, now: record.resolvedAt ?? record.updatedAt)
                        return (status.used ?? 0) <= 1
                    }.count
                    attainment = Double(within) / Double(records.count)
                }
                timings.append(Timing(queue: queue, band: band, resolved: records.count, firstActionP50: percentile(firstActions, 0.5),
                                      firstActionP90: percentile(firstActions, 0.9), resolutionP50: percentile(resolutions, 0.5),
                                      resolutionP90: percentile(resolutions, 0.9), firstActionTarget: targets?.firstAction,
                                      resolutionTarget: targets?.resolution, attainment: attainment))
            }
        }
        return timings
    }

    /// Whole days (UTC) from the day holding `from` to the day holding `to`, as each day's start.
    public static func days(from: Int64, to: Int64) -> [Int64] {
        let first = ExposurePolicy.startOfDay(from), last = ExposurePolicy.startOfDay(to)
        return Array(stride(from: first, through: last, by: 86_400_000))
    }

    /// The start of the ISO week (Monday, UTC) holding `time`.
    public static func startOfWeek(_ time: Int64) -> Int64 { Timestamp.startOfWeek(time) }
}
