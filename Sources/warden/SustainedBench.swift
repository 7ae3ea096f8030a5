import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization
import WardenCore
import WardenSimulation

/// `warden bench ingest --rate R --duration S`: offers simulated events at a fixed rate for a
/// while and watches the whole pipeline keep up (or not). Batches leave on a schedule (open loop:
/// a slow answer does not slow the offer), each generated just before it is sent, with the
/// simulator's clock at the offered rate so event times are current. Once a second the server's
/// `/metrics` gives each log consumer's lag and `/proc` its resident memory. Latency is measured
/// from each batch's scheduled time, so time spent waiting for a free connection counts.
struct SustainedLoad {
    var url: String
    var token: String?
    var rate: Double
    var seconds: Double
    var batch: Int
    var connections: Int
    var seed: UInt64
    var serverPid: String?

    struct Sample: Sendable {
        var at: Double
        var sent: Int
        var lagSeconds: [String: Double]
        var lagItems: [String: Double]
        var rssMiB: Double
        /// The server's CPU time so far, in seconds (nil when /proc cannot say).
        var cpuSeconds: Double?
    }

    struct Report {
        var offered: Double
        var seconds: Double
        var events: Int
        var latencies: [Double]
        var late: Int
        var samples: [Sample]
        var caughtUpAfter: Double?
        /// The server's CPU time from the first batch until everything caught up (or the last sample).
        var serverCPUSeconds: Double?
        var batch: Int
        var connections: Int
    }

    /// What the connections and the monitor share.
    final class Shared: Sendable {
        let simulator: Mutex<Simulator>
        let next = Mutex(0)
        let sent = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        init(_ simulator: Simulator) { self.simulator = Mutex(simulator) }
    }

    func run(progress: @escaping @Sendable (Int, Int) -> Void) async throws -> Report {
        let total = Int(rate * seconds) / batch
        let interval = Double(batch) / rate
        let shared = Shared(Self.simulator(rate: rate, seed: seed))
        let sender = HTTPSender(client: .shared, baseURL: url, token: token)
        let clock = ContinuousClock()
        let batch = self.batch, seconds = self.seconds
        // Only a server of its own has CPU time apart from the load's (embedded, it is this process).
        let cpuAtStart = serverPid.flatMap { cpuSeconds(pid: $0) }
        let started = clock.now

        // The monitor: one sample a second until the load ends and every consumer has caught up.
        let monitor = Task { () -> ([Sample], Double?) in
            var samples: [Sample] = []
            var caughtUp: Double?
            while !Task.isCancelled {
                let at = started.duration(to: clock.now).seconds
                if let sample = try? await self.sample(at: at, sent: shared.sent.load(ordering: .relaxed)) {
                    samples.append(sample)
                    if shared.stop.load(ordering: .relaxed), sample.lagItems.values.allSatisfy({ $0 == 0 }), !sample.lagItems.isEmpty {
                        caughtUp = at
                        break
                    }
                }
                if at > seconds + 600 { break }
                try? await Task.sleep(for: .seconds(1))
            }
            return (samples, caughtUp)
        }

        let results = try await withThrowingTaskGroup(of: (latencies: [Double], late: Int).self) { group in
            for _ in 0..<connections {
                group.addTask {
                    var latencies: [Double] = []
                    var late = 0
                    while true {
                        let index: Int? = shared.next.withLock { value in
                            guard value < total else { return nil }
                            defer { value += 1 }
                            return value
                        }
                        guard let index else { break }
                        let due = started.advanced(by: .seconds(Double(index) * interval))
                        if clock.now < due { try await Task.sleep(until: due, clock: clock) } else if due.duration(to: clock.now) > .milliseconds(100) { late += 1 }
                        var body: [UInt8] = []
                        body.reserveCapacity(batch * 400)
                        shared.simulator.withLock { simulator in
                            for _ in 0..<batch {
                                guard let event = simulator.next() else { break }
                                body += event.json
                                body.append(UInt8(ascii: "\n"))
                            }
                        }
                        let result = try await sender.sendCounting(body)
                        latencies.append(due.duration(to: clock.now).seconds)
                        guard result.rejected + result.conflicts == 0 else {
                            throw ValidationError("batch \(index) had \(result.rejected) rejected and \(result.conflicts) conflicting lines")
                        }
                        let sent = shared.sent.add(batch, ordering: .relaxed).newValue
                        progress(sent, total * batch)
                    }
                    return (latencies, late)
                }
            }
            var all: [Double] = []
            var late = 0
            for try await part in group {
                all += part.latencies
                late += part.late
            }
            return (all.sorted(), late)
        }
        let sendSeconds = started.duration(to: clock.now).seconds
        shared.stop.store(true, ordering: .relaxed)
        let (samples, caughtUp) = await monitor.value
        let cpu = cpuAtStart.flatMap { start in samples.last?.cpuSeconds.map { $0 - start } }
        return Report(offered: rate, seconds: sendSeconds, events: total * batch, latencies: results.0, late: results.1, samples: samples,
                      caughtUpAfter: caughtUp, serverCPUSeconds: cpu, batch: batch, connections: connections)
    }

    static func simulator(rate: Double, seed: UInt64) -> Simulator {
        var options = SimulationOptions(start: SystemWallClock().nowMillis())
        options.seed = seed
        options.rate = rate
        options.cycleMillis = 600_000
        return Simulator(options: options)
    }

    /// One reading of the server: consumer lags from `/metrics`, resident memory from `/proc`.
    func sample(at: Double, sent: Int) async throws -> Sample {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url.trimmingSuffix("/") + "/metrics"), timeout: .seconds(5))
        let text = String(buffer: try await response.body.collect(upTo: 16 << 20))
        var seconds: [String: Double] = [:], items: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            for (prefix, isSeconds) in [("warden_consumer_lag_seconds{consumer=\"", true), ("warden_consumer_lag_events{consumer=\"", false)]
                where line.hasPrefix(prefix) {
                let rest = line.dropFirst(prefix.count)
                guard let quote = rest.firstIndex(of: "\""), let value = Double(rest.split(separator: " ").last ?? "") else { continue }
                if isSeconds { seconds[String(rest[..<quote])] = value } else { items[String(rest[..<quote])] = value }
            }
        }
        return Sample(at: at, sent: sent, lagSeconds: seconds, lagItems: items, rssMiB: memoryMiB(pid: serverPid ?? "self").current,
                      cpuSeconds: cpuSeconds(pid: serverPid ?? "self"))
    }
}

extension SustainedLoad.Report {
    /// Per consumer: p50, p99 and max of its lag in seconds over the samples taken while load was offered.
    var lagSummary: [String: (p50: Double, p99: Double, max: Double)] {
        let during = samples.filter { $0.at <= seconds }
        let consumers = Set(during.flatMap(\.lagSeconds.keys))
        var summary: [String: (Double, Double, Double)] = [:]
        for consumer in consumers {
            let values = during.compactMap { $0.lagSeconds[consumer] }.sorted()
            summary[consumer] = (percentile(values, 0.5), percentile(values, 0.99), values.last ?? 0)
        }
        return summary
    }

    /// The server's CPU time per event offered, in microseconds: what the whole pipeline (intake,
    /// every consumer, checkpoints) costs an event, whatever the machine's other load. Meaningful
    /// once everything caught up; until then the backlog's work is missing from it.
    var cpuMicrosecondsPerEvent: Double? {
        guard caughtUpAfter != nil, let serverCPUSeconds, events > 0 else { return nil }
        return serverCPUSeconds / Double(events) * 1_000_000
    }

    func render(json: Bool) -> String {
        let achieved = Double(events) / seconds
        let ms = { (p: Double) in (percentile(latencies, p) * 1000 * 10).rounded() / 10 }
        let peak = samples.map(\.rssMiB).max() ?? 0
        let lags = lagSummary
        if json {
            var object: [String: Any] = [
                "mode": "sustained", "offered_events_per_sec": Int(offered), "achieved_events_per_sec": Int(achieved), "events": events,
                "seconds": (seconds * 10).rounded() / 10, "batch": batch, "connections": connections,
                "intake_latency_ms": ["p50": ms(0.5), "p90": ms(0.9), "p99": ms(0.99), "max": ms(1.0)], "batches_late_over_100ms": late,
                "server_rss_peak_mib": peak.rounded(),
                "consumer_lag_seconds": Dictionary(uniqueKeysWithValues: lags.map { ($0.key, ["p50": $0.value.p50, "p99": $0.value.p99, "max": $0.value.max]) }),
                "timeline": samples.filter { Int($0.at) % 10 == 0 || $0.at > seconds }.map { sample -> [String: Any] in
                    ["at": Int(sample.at), "sent": sample.sent, "rss_mib": sample.rssMiB.rounded(),
                     "lag_seconds": sample.lagSeconds, "lag_items": sample.lagItems]
                },
            ]
            object["caught_up_after_seconds"] = caughtUpAfter.map { ($0 * 10).rounded() / 10 } ?? NSNull()
            object["server_cpu_seconds"] = serverCPUSeconds.map { ($0 * 100).rounded() / 100 } ?? NSNull()
            object["server_cpu_us_per_event"] = cpuMicrosecondsPerEvent.map { ($0 * 10).rounded() / 10 } ?? NSNull()
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
        var text = "offered \(Int(offered)) events/s for \(String(format: "%.0f", seconds))s: \(events) events, \(Int(achieved)) events/s "
        text += "(batches of \(batch), \(connections) connections)\n"
        text += "intake latency ms (from each batch's scheduled time): p50 \(ms(0.5))  p90 \(ms(0.9))  p99 \(ms(0.99))  max \(ms(1.0))"
        text += "; \(late) batches started over 100 ms late\n"
        for (consumer, lag) in lags.sorted(by: { $0.key < $1.key }) {
            text += "lag \(consumer): p50 \(String(format: "%.1f", lag.p50))s  p99 \(String(format: "%.1f", lag.p99))s  max \(String(format: "%.1f", lag.max))s\n"
        }
        text += "server resident memory: peak \(Int(peak)) MiB\n"
        if let serverCPUSeconds, let perEvent = cpuMicrosecondsPerEvent {
            text += "server CPU: \(String(format: "%.1f", serverCPUSeconds)) s until caught up, \(String(format: "%.1f", perEvent)) µs an event"
            text += " (\(Int(1_000_000 / perEvent)) events/s a core)\n"
        }
        text += caughtUpAfter.map { "every consumer caught up \(String(format: "%.1f", $0))s after the first event" } ?? "consumers had not caught up"
        text += "\nover time (every 60 s): " + samples.filter { Int($0.at) % 60 == 0 }.map { sample in
            "\(Int(sample.at))s " + sample.lagSeconds.sorted(by: { $0.key < $1.key }).map { "\($0.key) \(String(format: "%.1f", $0.value))s" }
                .joined(separator: " ") + " \(Int(sample.rssMiB)) MiB"
        }.joined(separator: " | ")
        return text
    }
}
