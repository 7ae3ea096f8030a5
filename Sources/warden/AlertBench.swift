import ArgumentParser
import Foundation
import Logging
import WardenCore
import WardenEngine
import WardenIncidents
import WardenRules
import WardenSimulation
import WardenStore

/// `warden bench alerts`: how well the pack's alert rules catch the simulator's campaigns, and
/// what evaluating alert rules costs beside detection.
struct AlertBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Alert quality on simulated weeks, and the cost of alert evaluation beside detection.",
        discussion: """
            Quality: simulates \\(--history-days) days of campaign-free traffic with a daily rhythm, a campaign-free control week and a week \
            with each of the six campaigns once, runs the pack's rules over it and replays the pack's alert rules minute by minute \
            (as the server evaluates them): for each campaign, whether and how soon an alert fired; every alert in the control week is false.
            Cost: the series consumer's rate over stored events against detection's rate over the same events, and one evaluation round \
            of --rules generated alert rules over a store holding eight days of series, against detection's time for a minute of traffic \
            at --reference-rate events/s.
            """
    )

    @OptionGroup var pack: PackOption
    @Option(help: "Normal events per simulated second (before the daily rhythm).") var rate = 3.0
    @Option(help: "Days of campaign-free history before the control week.") var historyDays = 14
    @Option(help: "Alert rules in the cost round.") var rules = 200
    @Option(help: "Events stored for the series consumer's rate.") var events = 300_000
    @Option(help: "Intake rate the cost is compared at (events/s).") var referenceRate = 50_000
    @Option(help: "Simulator seed.") var seed: UInt64 = 42
    @Flag(help: "Skip the quality run (cost only).") var costOnly = false
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        let loaded = try pack.load()
        var report: [String: Any] = [:]
        if !costOnly {
            let start: Int64 = 1_767_571_200_000  // 2026-01-05T00:00:00Z, a Monday
            var bar = ProgressBar(label: "bench alerts (simulated days)", total: historyDays + 14)
            let quality = AlertQuality.measure(rules: loaded.rules, schema: loaded.eventSchema, alerts: loaded.incidents.alerts, start: start,
                                               historyDays: historyDays, rate: rate, seed: seed) { done, _ in bar.update(done) }
            bar.finish()
            let caught = quality.campaigns.filter { $0.alert != nil }.count
            report["quality"] = [
                "events": quality.events, "seconds": (quality.seconds * 10).rounded() / 10, "history_days": historyDays, "rate": rate,
                "campaigns": quality.campaigns.map { result -> [String: Any] in
                    ["campaign": result.campaign.rawValue, "started_at": Timestamp.formatRFC3339(result.startedAt),
                     "alert": result.alert.map { "\($0.rule): \($0.key)" } ?? NSNull(), "delay_seconds": result.delay.map { Double($0) / 1000 } ?? NSNull(),
                     "category_signals_30m": result.signals, "category_signals_30m_day_before": result.signalsDayBefore]
                },
                "caught": caught, "median_delay_seconds": quality.medianDelay.map { Double($0) / 1000 } ?? NSNull(),
                "false_alerts": quality.falseAlerts.count, "false_alerts_per_day": (quality.falseAlertsPerDay * 100).rounded() / 100,
                "false_alert_list": quality.falseAlerts.map { "\(Timestamp.formatRFC3339($0.firstFiredAt)) \($0.rule): \($0.key) \($0.peak)" },
                "campaign_week_alerts": quality.campaignWeekAlerts.map { "\(Timestamp.formatRFC3339($0.firstFiredAt))–\($0.resolvedAt.map(Timestamp.formatRFC3339) ?? "open") \($0.rule): \($0.key) peak \($0.peak)" },
            ] as [String: Any]
            if !json {
                print("Alert quality: \(quality.events) events over \(historyDays + 14) simulated days in \(String(format: "%.1f", quality.seconds)) s (rate \(rate)/s with a daily rhythm)")
                for result in quality.campaigns {
                    let found = result.alert.map { "alert \($0.rule) on \($0.key) after \(DurationText.format(max(0, result.delay ?? 0) / 1000 * 1000))" } ?? "NO ALERT"
                    print("  \(result.campaign.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0)) \(Timestamp.formatRFC3339(result.startedAt))  \(found)"
                          + "  (\(result.campaign.category) signals in 30 min: \(result.signals); a day before: \(result.signalsDayBefore))")
                }
                print("  caught \(caught) of \(quality.campaigns.count); median delay \(quality.medianDelay.map { DurationText.format($0 / 1000 * 1000) } ?? "—")")
                print("  control week: \(quality.falseAlerts.count) false alert(s), \(String(format: "%.2f", quality.falseAlertsPerDay)) per day")
                for alert in quality.falseAlerts.prefix(10) { print("    \(Timestamp.formatRFC3339(alert.firstFiredAt)) \(alert.summary)") }
            }
        }
        report["cost"] = try await cost(loaded)
        if json { printJSON(report) }
    }

    /// The series consumer's rate and one round of `rules` alert rules, against detection.
    func cost(_ loaded: PolicyPack) async throws -> [String: Any] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-bench-alerts-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try DataDirectory(path: directory).prepare()
        let store = try SQLiteStore(path: DataDirectory(path: directory).databasePath)
        let now = SystemWallClock().nowMillis()
        var options = SimulationOptions(start: now - 3_600_000)
        options.rate = 2000
        var simulator = Simulator(options: options)
        var generated: [IncomingEvent] = []
        var detector = Detector(rules: loaded.rules)
        generated.reserveCapacity(events)
        while generated.count < events, let event = simulator.next() {
            guard let parsed = try? event.json.withUnsafeBufferPointer({ try loaded.eventSchema.parse($0, now: now) }) else { continue }
            generated.append(IncomingEvent(parsed: parsed, body: event.json))
        }
        let detectionStarted = ContinuousClock.now
        for event in generated { _ = detector.process(event.parsed, body: event.body) }
        let detectionRate = Double(generated.count) / detectionStarted.duration(to: .now).seconds
        var bar = ProgressBar(label: "bench alerts (storing events)", total: generated.count)
        for start in stride(from: 0, to: generated.count, by: 5000) {
            _ = try await store.append(Array(generated[start..<min(start + 5000, generated.count)]), receivedAt: now - 60_000)
            bar.update(min(start + 5000, generated.count))
        }
        bar.finish()
        let seriesStarted = ContinuousClock.now
        while try await store.recordSeries(batch: 200_000) > 0 {}
        let seriesRate = Double(generated.count) / seriesStarted.duration(to: .now).seconds

        // Eight days of history in every series the rules read, thirty keys each.
        let minute = now / 60_000 - 1
        let series: [AlertSeries] = [.signalsByCategory, .signalsByRule, .events, .reports]
        bar = ProgressBar(label: "bench alerts (history)", total: series.count)
        for (index, name) in series.enumerated() {
            var counts: [SeriesCount] = []
            for offset in stride(from: Int64(0), to: 8 * 1440, by: 1) {
                for key in 0..<30 where (offset + Int64(key)) % 3 == 0 {
                    counts.append(SeriesCount(minute: minute - offset, key: "key\(key)", count: 1 + (offset + Int64(key)) % 7))
                }
            }
            try await store.addSeriesCounts(name, counts)
            bar.update(index + 1)
        }
        bar.finish()
        let generatedRules = (0..<rules).map { index -> AlertRule in
            let window = Int64([5, 10, 15, 30][index % 4])
            return AlertRule(name: "rule\(index)", series: series[index % series.count], keys: index % 5 == 0 ? ["key1*"] : [], windowMinutes: window,
                             above: index % 2 == 0 ? 500 : nil, anomaly: index % 2 == 1 ? .init(seasonMinutes: 1440, seasons: 7, sensitivity: 6, minCount: 10) : nil)
        }
        var rounds: [Double] = []
        for _ in 0..<5 {
            let started = ContinuousClock.now
            _ = try await store.evaluateAlerts(generatedRules, minute: minute, settings: loaded.incidents.settings, now: now)
            rounds.append(started.duration(to: .now).seconds)
        }
        rounds.sort()
        let round = rounds[rounds.count / 2]
        let detectionPerMinute = 60 * Double(referenceRate) / detectionRate
        let result: [String: Any] = [
            "events": generated.count, "detection_events_per_sec": Int(detectionRate), "series_consumer_events_per_sec": Int(seriesRate),
            "series_consumer_share_of_detection": (detectionRate / seriesRate * 10_000).rounded() / 10_000,
            "rules": rules, "evaluation_round_ms": (round * 10_000).rounded() / 10, "reference_rate": referenceRate,
            "detection_seconds_per_minute_at_reference": (detectionPerMinute * 100).rounded() / 100,
            "evaluation_share_of_detection": (round / detectionPerMinute * 10_000).rounded() / 10_000,
        ]
        if !json {
            print("Cost: detection \(Int(detectionRate)) events/s on one core; series consumer \(Int(seriesRate)) events/s over the stored log "
                  + "(\(String(format: "%.2f", detectionRate / seriesRate * 100)) % of detection's time per event)")
            print("  one round of \(rules) alert rules over 8 days of series: \(String(format: "%.1f", round * 1000)) ms a minute; detection of a minute at "
                  + "\(referenceRate) events/s takes \(String(format: "%.2f", detectionPerMinute)) s: \(String(format: "%.2f", round / detectionPerMinute * 100)) % (limit 5 %)")
        }
        return result
    }
}
