public import Logging
public import ServiceLifecycle
public import WardenCore
public import WardenSimulation

/// Streams simulated traffic into intake in real time, so a newcomer running
/// `warden serve --demo` sees a living system. Stops with the service group.
public struct DemoTraffic: Service {
    private let intake: Intake
    private let options: SimulationOptions
    private let logger: Logger

    /// Streams `rate` normal events per second (plus campaigns) starting now.
    public init(intake: Intake, rate: Double, seed: UInt64, clock: any WallClock = SystemWallClock(), logger: Logger) {
        self.intake = intake
        self.options = Self.options(start: clock.nowMillis(), rate: rate, seed: seed)
        self.logger = logger
    }

    /// The demo's simulation: every campaign runs once in each eight-minute cycle, the first
    /// 48 seconds in and the last under seven minutes in, so a newcomer sees each within the
    /// first ten minutes.
    public static func options(start: Int64, rate: Double, seed: UInt64) -> SimulationOptions {
        var options = SimulationOptions(start: start)
        options.rate = rate
        options.seed = seed
        options.cycleMillis = 8 * 60_000
        return options
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
