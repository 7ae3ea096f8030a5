import ArgumentParser
import AsyncHTTPClient
import Foundation
import WardenCore
import WardenSimulation

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate deterministic product traffic with injected abuse campaigns.",
        discussion: """
            Normal users sign up, log in, message, post, pay and call the API; every cycle, six campaigns run once: \
            \(Campaign.allCases.map(\.rawValue).joined(separator: ", ")). The same seed and options give the same \
            events. Ground truth (which events and entities belong to which campaign) goes to a side file.
            """
    )

    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Option(help: "Simulated time span, such as 30m or 2h.") var duration = "1h"
    @Option(help: "Stop after this many events (overrides --duration).") var events: Int?
    @Option(help: "Normal events per simulated second.") var rate: Double = 20
    @Option(help: "Users that exist at the start.") var users = 2000
    @Option(help: "Campaign cycle length; each campaign runs once per cycle.") var cycle = "1h"
    @Option(help: "Comma-separated campaigns to inject (default all), or none.") var campaigns: String?
    @Option(help: "Simulated start time (RFC 3339, or now). Default: 2026-11-01T00:00:00Z for files, now with --to.") var start: String?
    @Option(help: "Write events here (- for standard output).") var out = "-"
    @Option(help: "Write ground truth here (default: OUT with .truth.ndjson when OUT is a file).") var truth: String?
    @Option(help: "Stream to a running server instead, such as http://127.0.0.1:8080.") var to: String?
    @Option(help: "API token for --to (default: $WARDEN_TOKEN).") var token: String?
    @Option(help: "With --to: simulated seconds per real second (1 = real time).") var speed: Double = 1

    func run() async throws {
        let now = SystemWallClock().nowMillis()
        var startMillis: Int64 = to == nil ? 1_793_491_200_000 : now
        if let start {
            guard let parsed = start == "now" ? now : Timestamp.parseRFC3339(start) else {
                throw ValidationError("--start \(start) is not an RFC 3339 time such as 2026-11-01T00:00:00Z")
            }
            startMillis = parsed
        }
        var options = SimulationOptions(start: startMillis)
        options.seed = seed
        options.rate = rate
        options.users = users
        options.cycleMillis = try parseDuration(cycle)
        if let campaigns {
            options.campaigns = try campaigns == "none" ? [] : campaigns.split(separator: ",").map { name in
                guard let campaign = Campaign(rawValue: String(name)) else {
                    throw ValidationError("unknown campaign \(name); known: \(Campaign.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return campaign
            }
        }
        let end = startMillis + (try parseDuration(duration))
        var simulator = Simulator(options: options)

        let truthPath = truth ?? (out == "-" ? nil : (out.hasSuffix(".ndjson") ? String(out.dropLast(7)) : out) + ".truth.ndjson")
        let truthHandle = try truthPath.map(Self.create)
        if let to {
            try await stream(&simulator, to: to, end: end, truth: truthHandle)
            return
        }
        let output = out == "-" ? FileHandle.standardOutput : try Self.create(out)
        var progress = ProgressBar(label: "simulate", total: events)
        var buffer: [UInt8] = []
        var truthBuffer: [UInt8] = []
        var count = 0
        while let event = simulator.next(), events.map({ count < $0 }) ?? (event.occurredAt < end) {
            buffer += event.json
            buffer.append(UInt8(ascii: "\n"))
            for record in event.truth { truthBuffer += Array((record.json + "\n").utf8) }
            count += 1
            if buffer.count > 1 << 20 {
                output.write(Data(buffer))
                truthHandle?.write(Data(truthBuffer))
                buffer.removeAll(keepingCapacity: true)
                truthBuffer.removeAll(keepingCapacity: true)
                progress.update(count)
            }
        }
        output.write(Data(buffer))
        truthHandle?.write(Data(truthBuffer))
        progress.update(count, force: true)
        progress.finish()
        if out != "-" {
            FileHandle.standardError.write(Data("wrote \(count) events to \(out)\(truthPath.map { ", ground truth to \($0)" } ?? "")\n".utf8))
        }
    }

    private func stream(_ simulator: inout Simulator, to: String, end: Int64, truth: FileHandle?) async throws {
        let client = HTTPClient.shared
        let sender = HTTPSender(client: client, baseURL: to, token: token ?? ProcessInfo.processInfo.environment["WARDEN_TOKEN"])
        let started = ContinuousClock.now
        var pending = simulator.next()
        let first = pending?.occurredAt ?? 0
        var sent = 0
        var progress = ProgressBar(label: "stream", total: nil)
        while let next = pending, events.map({ sent < $0 }) ?? (next.occurredAt < end) {
            let simulatedNow = first + Int64(started.duration(to: .now).seconds * speed * 1000)
            var body: [UInt8] = []
            var lines = 0
            while let event = pending, event.occurredAt <= simulatedNow, lines < 5000, events.map({ sent + lines < $0 }) ?? true {
                body += event.json
                body.append(UInt8(ascii: "\n"))
                for record in event.truth { truth?.write(Data((record.json + "\n").utf8)) }
                lines += 1
                pending = simulator.next()
            }
            if lines == 0 {
                try await Task.sleep(for: .milliseconds(50))
                continue
            }
            let result = try await sender.send(body)
            sent += lines
            if result.rejected > 0 {
                FileHandle.standardError.write(Data("warning: \(result.rejected) simulated events were rejected\n".utf8))
            }
            progress.update(sent)
        }
        progress.finish()
        FileHandle.standardError.write(Data("streamed \(sent) events to \(to)\n".utf8))
    }

    static func create(_ path: String) throws -> FileHandle {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ValidationError("cannot write \(path)")
        }
        return handle
    }
}
