public import Logging
public import ServiceLifecycle
public import WardenCore
import WardenSimulation

/// Streams simulated traffic into intake in real time, so a newcomer running
/// `warden serve --demo` sees a living system. Stops with the service group.
public struct DemoTraffic: Service {
    private let intake: Intake
    private let options: SimulationOptions
    private let logger: Logger

    /// Streams `rate` normal events per second (plus campaigns) starting now.
    public init(intake: Intake, rate: Double, seed: UInt64, clock: any WallClock = SystemWallClock(), logger: Logger) {
        var options = SimulationOptions(start: clock.nowMillis())
        options.rate = rate
        options.seed = seed
        options.cycleMillis = 15 * 60_000
        self.intake = intake
        self.options = options
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await stream() }
        } catch is CancellationError {
            // Shutting down.
        }
    }

    private func stream() async throws {
        var simulator = Simulator(options: options)
        var pending = simulator.next()
        let started = ContinuousClock.now
        var sent = 0
        defer { logger.info("demo traffic stopped", metadata: ["events": "\(sent)"]) }
        while !Task.isCancelled {
                try await Task.sleep(for: .milliseconds(250))
                let elapsed = started.duration(to: .now).components.seconds * 1000
                var body: [UInt8] = []
                while let event = pending, event.occurredAt <= options.start + elapsed {
                    body += event.json
                    body.append(UInt8(ascii: "\n"))
                    pending = simulator.next()
                }
                guard !body.isEmpty else { continue }
                let result = try await intake.submit(body, format: .ndjson)
                sent += result.accepted
                if result.rejected > 0 {
                    logger.warning("demo traffic had rejected lines", metadata: ["rejected": "\(result.rejected)"])
                }
        }
    }
}
