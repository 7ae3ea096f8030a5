import Foundation
public import WardenCore
public import WardenIncidents
public import WardenRules
public import WardenSimulation

/// Per-minute counts of what detection saw, as the store's series consumer counts them (events by
/// type, reports by reason, active rules' signals by rule and by category), kept in memory: the
/// alert-quality benchmark replays weeks of simulated traffic through detection into it.
public struct SeriesTally: Sendable {
    private struct Key: Hashable {
        var series: AlertSeries
        var minute: Int64
        var key: String
    }
    private var counts: [Key: Int64] = [:]

    public init() {}

    /// Counts one event and what detection made of it, in the minute `minute`.
    public mutating func add(_ event: ParsedEvent, body: [UInt8], evaluation: Evaluation, minute: Int64) {
        counts[Key(series: .events, minute: minute, key: event.type), default: 0] += 1
        if event.type == ReservedEventType.report {
            let reason = body.withUnsafeBufferPointer { JSONValue.member(at: ["data", "reason"], in: $0) }
            if case .string(let text)? = reason { counts[Key(series: .reports, minute: minute, key: text), default: 0] += 1 }
        }
        for hit in evaluation.hits where hit.mode == .active {
            var category = hit.category
            for case .signal(let signalled, _, _, _) in hit.effects { category = signalled }
            counts[Key(series: .signalsByRule, minute: minute, key: hit.rule), default: 0] += 1
            counts[Key(series: .signalsByCategory, minute: minute, key: category), default: 0] += 1
        }
    }

    /// One series' counts, by minute.
    public func buckets(_ series: AlertSeries) -> [SeriesCount] {
        counts.filter { $0.key.series == series }.map { SeriesCount(minute: $0.key.minute, key: $0.key.key, count: $0.value) }
            .sorted { ($0.minute, $0.key) < ($1.minute, $1.key) }
    }
}

/// How well a pack's alert rules catch the simulator's campaigns: weeks of campaign-free history
/// with a daily rhythm, a campaign-free control week (every alert in it is false), and a week with
/// each campaign once. Pure over the simulator, the detector and ``AlertBacktest``.
public struct AlertQuality: Sendable {
    public struct CampaignResult: Sendable {
        public var campaign: Campaign
        public var startedAt: Int64
        /// The first alert after the campaign began (within the hour), if any.
        public var alert: AlertRecord?
        public var delay: Int64? { alert.map { $0.firstFiredAt - startedAt } }
        /// Signals in the campaign's category in its first 30 minutes, and in the same 30 minutes a day earlier.
        public var signals: Int64
        public var signalsDayBefore: Int64
    }
    public var campaigns: [CampaignResult]
    /// Every alert in the control week.
    public var falseAlerts: [AlertRecord]
    /// Every alert in the campaign week.
    public var campaignWeekAlerts: [AlertRecord]
    public var controlDays: Double
    public var events: Int
    public var seconds: Double

    public var falseAlertsPerDay: Double { Double(falseAlerts.count) / controlDays }
    public var medianDelay: Int64? {
        let delays = campaigns.compactMap(\.delay).sorted()
        return delays.isEmpty ? nil : delays[delays.count / 2]
    }

    /// Runs it. `start` should be a midnight UTC; history is `historyDays` long, then the control
    /// week, then the campaign week. `progress` hears the simulated day finished (of the total).
    public static func measure(rules: RuleSet, schema: EventSchema, alerts: [AlertRule], start: Int64, historyDays: Int = 14, rate: Double = 3,
                               rhythm: Double = 0.6, seed: UInt64 = 42, progress: (Int, Int) -> Void = { _, _ in }) -> AlertQuality {
        let day: Int64 = 86_400_000
        let controlStart = start + Int64(historyDays) * day
        let campaignStart = controlStart + 7 * day
        let end = campaignStart + 7 * day
        var detector = Detector(rules: rules)
        var tally = SeriesTally()
        var events = 0
        var started: [(Campaign, Int64)] = []
        let clock = ContinuousClock.now
        func run(_ options: SimulationOptions, until: Int64) {
            var simulator = Simulator(options: options)
            var lastDay = (options.start - start) / day
            while let event = simulator.next(), event.occurredAt < until {
                for truth in event.truth where truth.kind == "campaign" { started.append((truth.campaign, truth.startedAt ?? event.occurredAt)) }
                guard let parsed = try? event.json.withUnsafeBufferPointer({ try schema.parse($0, now: event.occurredAt) }) else { continue }
                let evaluation = detector.process(parsed, body: event.json)
                tally.add(parsed, body: event.json, evaluation: evaluation, minute: event.occurredAt / 60_000)
                events += 1
                let today = (event.occurredAt - start) / day
                if today != lastDay {
                    lastDay = today
                    progress(Int(today), Int((end - start) / day))
                }
            }
        }
        var quiet = SimulationOptions(start: start)
        quiet.seed = seed
        quiet.rate = rate
        quiet.dailyRhythm = rhythm
        quiet.campaigns = []
        run(quiet, until: campaignStart)
        var loud = SimulationOptions(start: campaignStart)
        loud.seed = seed &+ 1
        loud.rate = rate
        loud.dailyRhythm = rhythm
        loud.cycleMillis = 7 * day
        run(loud, until: end)

        var falseAlerts: [AlertRecord] = []
        var campaignAlerts: [AlertRecord] = []
        for rule in alerts {
            let buckets = tally.buckets(rule.series)
            falseAlerts += AlertBacktest.run(rule: rule, buckets: buckets, after: start / 60_000 - 1, firstMinute: start / 60_000,
                                             from: controlStart / 60_000, through: campaignStart / 60_000 - 1).alerts
            campaignAlerts += AlertBacktest.run(rule: rule, buckets: buckets, after: start / 60_000 - 1, firstMinute: start / 60_000,
                                                from: campaignStart / 60_000, through: end / 60_000 - 1).alerts
        }
        let categories = tally.buckets(.signalsByCategory)
        func signals(_ category: String, from: Int64) -> Int64 {
            categories.filter { $0.key == category && $0.minute >= from / 60_000 && $0.minute < from / 60_000 + 30 }.reduce(0) { $0 + $1.count }
        }
        let results = started.map { campaign, at in
            CampaignResult(campaign: campaign, startedAt: at,
                           alert: campaignAlerts.filter { $0.firstFiredAt >= at && $0.firstFiredAt < at + 3_600_000 }.min { $0.firstFiredAt < $1.firstFiredAt },
                           signals: signals(campaign.category, from: at), signalsDayBefore: signals(campaign.category, from: at - day))
        }
        return AlertQuality(campaigns: results, falseAlerts: falseAlerts.sorted { $0.firstFiredAt < $1.firstFiredAt },
                            campaignWeekAlerts: campaignAlerts.sorted { $0.firstFiredAt < $1.firstFiredAt }, controlDays: 7, events: events,
                            seconds: clock.duration(to: .now).seconds)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
